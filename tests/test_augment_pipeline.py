"""End to end with the scripted teacher (answers right with a known probability) on 50 GSM8K and
50 MATH seeds: exact kept counts, kept + rejected = sampled, resume after a crash, shards +
merge, targets and caps, dedup, and the CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from metamath.augment import AugmentConfig, SeedConfig, TechniqueConfig, merge_runs, run_augment
from metamath.augment.backward import mask_question
from metamath.augment.fobar import mask_index
from metamath.augment.generate import sample_seed
from metamath.augment.scripted import ScriptedTeacher, rephrasing, statement
from metamath.augment.seeds import load_seeds
from metamath.augment.self_verification import check_statement, split_question
from metamath.llm.base import Completion, Result
from metamath.prompts.augment import fobar_question, sv_question

K = {"answer_aug": 3, "rephrase": 2, "fobar": 2, "self_verification": 2}


def make_cfg(**kw) -> AugmentConfig:
    cfg = AugmentConfig(
        seeds=[SeedConfig(name="gsm8k", limit=50), SeedConfig(name="math", limit=50)],
        answer_aug=TechniqueConfig(k=K["answer_aug"]),
        rephrase=TechniqueConfig(k=K["rephrase"], k_rewrite=3),
        fobar=TechniqueConfig(k=K["fobar"], max_masks=2),
        self_verification=TechniqueConfig(k=K["self_verification"], k_rewrite=2, max_masks=2),
        near_dup_threshold=1.0,
        decontaminate=False,
        batch_size=16,
    )
    for k, v in kw.items():
        setattr(cfg, k, v)
    return cfg


@pytest.fixture(scope="module")
def seeds(data_dir):
    return load_seeds(make_cfg().seeds)[0]


@pytest.fixture(scope="module")
def full_run(seeds, tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    teacher = ScriptedTeacher(seeds, p_correct=0.6, p_bad_rewrite=0.25)
    stats = run_augment(make_cfg(), out, llm=teacher)
    return out, stats, teacher


def expected(seeds, teacher: ScriptedTeacher, cfg: AugmentConfig) -> tuple[Counter, Counter]:
    """(samples, kept) per technique, computed from the teacher's decisions alone (a sample is
    identified by its question and its item's sampling seed + index)."""
    queries: dict[str, dict[str, str]] = {t: {} for t in K}  # item id -> query
    for s in seeds:
        queries["answer_aug"][f"{s.id}/answer_aug"] = s.question
        texts = {}  # the same rephrasing twice is solved once, under its first id
        for i in range(cfg.rephrase.k_rewrite):
            if not teacher.bad_rewrite(s.question, i):
                texts.setdefault(rephrasing(s.question, i), f"{s.id}/rephrase/r{i}")
        queries["rephrase"].update({rid: q for q, rid in texts.items()})
        for m in mask_question(s.question, s.id, s.kind)[:2]:
            j = mask_index(m)
            queries["fobar"][f"{s.id}/fobar/m{j}"] = fobar_question(m.question, s.gold, m.var)
            base, sentence = split_question(m.question, s.kind)
            sv = {}  # the same statement twice is solved once
            for i in range(cfg.self_verification.k_rewrite):
                if teacher.bad_rewrite(f"{sentence}\nAnswer: {s.gold}", i):
                    continue
                st, reason = check_statement(statement(sentence, s.gold), sentence, s.gold, m.var)
                if reason is None:
                    sv.setdefault(sv_question(base, st, m.var), f"{s.id}/sv/m{j}/r{i}")
            queries["self_verification"].update({rid: q for q, rid in sv.items()})
    samples, kept = Counter(), Counter()
    for t, qs in queries.items():
        for rid, q in qs.items():
            for i in range(K[t]):
                samples[t] += 1
                kept[t] += teacher.correct(q, i, sample_seed(cfg, rid))
    return samples, kept


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_kept_counts_are_exactly_what_the_filter_should_keep(full_run, seeds):
    out, stats, teacher = full_run
    samples, kept = expected(seeds, teacher, make_cfg())
    for t in K:
        v = stats["techniques"][t]
        assert v["samples"] == samples[t], t
        assert v["kept"] == kept[t], t
        assert v["kept"] + sum(v["rejected"].values()) == v["samples"], t
        assert 0.45 < v["yield"] < 0.75, t  # p_correct = 0.6
    data = rows(out / "metamathqa.jsonl")
    assert len(data) == sum(kept.values()) == stats["rows"]
    by_type = Counter(r["type"] for r in data)
    assert set(by_type) == {
        f"{p}_{s}" for p in ("GSM", "MATH") for s in ("AnsAug", "Rephrased", "SV", "FOBAR")
    }
    rejected = rows(out / "rejected.jsonl")
    st1 = stats["stage1"]
    assert len(rejected) == sum(
        sum(v["rejected"].values()) for v in stats["techniques"].values()
    ) + sum(sum(v["rejected"].values()) for v in st1.values())
    assert all(r["reason"] for r in rejected)
    assert st1["rephrase"]["rejected"] == {
        "copy": st1["rephrase"]["generated"] - st1["rephrase"]["accepted"]
    }
    assert set(st1["sv_rewrite"]["rejected"]) == {"answer_phrase"}


def test_output_rows_have_the_metamathqa_form(full_run):
    out, stats, _ = full_run
    for r in rows(out / "metamathqa.jsonl"):
        assert {"query", "response", "type", "original_question", "id", "seed_id"} <= set(r)
        a = r["target"]
        if r["type"].startswith("GSM_"):
            assert r["response"].endswith(f"\n#### {a}\nThe answer is: {a}")
        else:
            assert r["response"].endswith(f"\nThe answer is: {a}") and "####" not in r["response"]
        if r["type"].endswith("FOBAR"):
            assert "\nIf we know the answer to the above question is " in r["query"]
        if r["type"].endswith("SV"):
            assert r["query"].endswith(
                "What is the value of unknown variable "
                + ("x?" if r["type"].startswith("GSM") else "X?")
            )
            assert "the answer is" not in r["query"].lower()
        if r["type"].endswith("AnsAug"):
            assert r["query"] == r["original_question"]
    card = (out / "DATA_CARD.md").read_text()
    f = stats["techniques"]["fobar"]
    assert f"| fobar | {f['requests']} | {f['samples']} | {f['kept']} |" in card
    assert f"- **rows kept: {stats['rows']:,}**" in card
    for t, v in stats["types"].items():  # the per-type table has every type's row
        assert f"| {t} | {v['available']} |" in card and f"**{t}** `" in card  # + an example
    assert "**Rejected samples**" in card and "## Files and config" in card
    assert "{'" not in card and "None" not in card and " ." not in card
    assert (out / "DATA_CARD.html").stat().st_size > 0
    assert json.loads((out / "stats.json").read_text())["rows"] == stats["rows"]
    assert (out / "config.yaml").exists()


@pytest.mark.parametrize("crash_at", [150, 600])  # during stage-1 rewrites; during solving
def test_killed_half_way_and_resumed_gives_the_same_dataset(full_run, seeds, tmp_path, crash_at):
    out_full, _, _ = full_run
    crashing = ScriptedTeacher(seeds, p_correct=0.6, p_bad_rewrite=0.25, fail_after=crash_at)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_augment(make_cfg(), tmp_path, llm=crashing)
    cand = tmp_path / "work" / "candidates.jsonl"
    with open(cand, "a") as f:
        f.write('{"id": "torn')  # a crash mid-line
    again = ScriptedTeacher(seeds, p_correct=0.6, p_bad_rewrite=0.25)
    run_augment(make_cfg(), tmp_path, llm=again)
    full_requests = sum(
        v["requests"]
        for v in json.loads((out_full / "stats.json").read_text())["techniques"].values()
    )
    assert 0 < again.served <= full_requests - crash_at + 16  # finished work was not redone
    assert (tmp_path / "metamathqa.jsonl").read_bytes() == (
        out_full / "metamathqa.jsonl"
    ).read_bytes()


def test_shards_merge_to_the_same_dataset(full_run, seeds, tmp_path):
    out_full, _, _ = full_run
    dirs = []
    for i in range(2):
        d = tmp_path / f"s{i}"
        st = run_augment(
            make_cfg(shard=f"{i}/2"),
            d,
            llm=ScriptedTeacher(seeds, p_correct=0.6, p_bad_rewrite=0.25),
        )
        assert 0 < st["rows"]
        dirs.append(d)
    merged = merge_runs(make_cfg(), dirs, tmp_path / "merged")
    assert (tmp_path / "merged" / "metamathqa.jsonl").read_bytes() == (
        out_full / "metamathqa.jsonl"
    ).read_bytes()
    assert merged["techniques"] == json.loads((out_full / "stats.json").read_text())["techniques"]


def test_targets_and_per_seed_caps(full_run, seeds, tmp_path):
    out_full, stats_full, _ = full_run
    (tmp_path / "work").mkdir()
    for name in ("candidates.jsonl", "rephrasings.jsonl", "statements.jsonl", "requests.jsonl"):
        (tmp_path / "work" / name).write_bytes((out_full / "work" / name).read_bytes())
    targets = {"GSM_AnsAug": 20, "MATH_FOBAR": 10_000}
    cfg = make_cfg(targets=targets, max_per_seed=1)
    st = merge_runs(cfg, [tmp_path], tmp_path / "a")
    data = rows(tmp_path / "a" / "metamathqa.jsonl")
    per = Counter((r["seed_id"], r["type"]) for r in data)
    assert max(per.values()) == 1
    by_type = Counter(r["type"] for r in data)
    assert by_type["GSM_AnsAug"] == 20
    assert st["types"]["MATH_FOBAR"]["shortfall"] == 10_000 - by_type["MATH_FOBAR"] > 0
    assert by_type["MATH_FOBAR"] == len({r["seed_id"] for r in data if r["type"] == "MATH_FOBAR"})
    assert st["techniques"]["answer_aug"]["rejected"]["over_target"] > 0
    assert st["techniques"]["answer_aug"]["rejected"]["seed_cap"] > 0
    again = merge_runs(cfg, [tmp_path], tmp_path / "b")
    assert again["rows"] == st["rows"]
    assert (tmp_path / "b" / "metamathqa.jsonl").read_bytes() == (
        tmp_path / "a" / "metamathqa.jsonl"
    ).read_bytes()
    other = merge_runs(
        make_cfg(targets=targets, max_per_seed=1, seed=1), [tmp_path], tmp_path / "c"
    )
    assert other["rows"] == st["rows"]
    assert (tmp_path / "c" / "metamathqa.jsonl").read_bytes() != (
        tmp_path / "a" / "metamathqa.jsonl"
    ).read_bytes()


class SameAnswerLLM:
    """Every sample of a request is the same correct reply (exact duplicates), or, with
    `vary`, the same reply but for one word (near-duplicates)."""

    model = "same"
    STEPS = (
        "We list every quantity given in the problem and write down what is asked. "
        "Then we combine the quantities step by step, checking each intermediate result "
        "against the story, and we make sure the units agree before the final step. "
        "Each partial sum is written on its own line so that a reader can follow it, and "
        "nothing is rounded until the very end of the computation, where we read off the "
        "result"
    )

    def __init__(self, seeds, vary: bool = False):
        self.gold = {s.question: s.gold for s in seeds}
        self.vary = vary

    def generate(self, requests):
        for req in requests:
            q = req.messages[-1]["content"].rsplit("Question: ", 1)[1].rsplit("\nAnswer:", 1)[0]
            yield Result(
                req,
                tuple(
                    Completion(
                        f"{self.STEPS} {self.gold.get(q, '0')} "
                        f"{('carefully', 'again', 'twice')[i % 3] if self.vary else ''}."
                        f"\nThe answer is: {self.gold.get(q, '0')}",
                        i,
                    )
                    for i in range(req.n)
                ),
            )

    def close(self):
        pass


def test_exact_duplicates_are_removed(seeds, tmp_path):
    cfg = make_cfg(seeds=[SeedConfig(name="gsm8k", limit=10)])
    for t in ("rephrase", "fobar", "self_verification"):
        getattr(cfg, t).enabled = False
    st = run_augment(cfg, tmp_path, llm=SameAnswerLLM(seeds))
    v = st["techniques"]["answer_aug"]
    assert v["samples"] == 30 and v["kept"] == 10 and v["rejected"] == {"duplicate": 20}
    assert st["dedup"]["exact"] == 20


@pytest.mark.parametrize("threshold,kept", [(0.9, 10), (1.0, 30)])
def test_near_duplicates_are_removed(seeds, tmp_path, threshold, kept):
    cfg = make_cfg(seeds=[SeedConfig(name="gsm8k", limit=10)], near_dup_threshold=threshold)
    for t in ("rephrase", "fobar", "self_verification"):
        getattr(cfg, t).enabled = False
    st = run_augment(cfg, tmp_path, llm=SameAnswerLLM(seeds, vary=True))
    v = st["techniques"]["answer_aug"]
    assert v["samples"] == 30 and v["kept"] == kept and st["dedup"]["near"] == 30 - kept


def test_decontamination_reports_what_it_removed(seeds, tmp_path):
    test_q = (
        "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning "
        "and bakes muffins for her friends every day with four."
    )
    seed_file = tmp_path / "mine.jsonl"
    seed_file.write_text(
        json.dumps({"question": test_q, "answer": "18"})
        + "\n"
        + json.dumps(
            {
                "question": "Tom has 3 apples and buys 4 more. How many apples does he have now?",
                "answer": "7",
            }
        )
        + "\n"
    )
    cfg = make_cfg(seeds=[SeedConfig(name="mine", path=str(seed_file))], decontaminate=True)
    from metamath.augment.seeds import load_seeds as ls

    st = run_augment(cfg, tmp_path / "run", llm=ScriptedTeacher(ls(cfg.seeds)[0], p_correct=1.0))
    d = st["decontamination"]
    assert d["removed"] > 0 and d["removed_by_test_set"] == {"gsm8k": d["removed"]}
    assert d["matched_test_ids"] == ["gsm8k:gsm8k/test/1"]
    kept = rows(tmp_path / "run" / "metamathqa.jsonl")
    assert kept and all("Janet" not in r["query"] for r in kept)
    rej = [r for r in rows(tmp_path / "run" / "rejected.jsonl") if r["reason"] == "contaminated"]
    assert len(rej) == d["removed"] and rej[0]["detail"] == "gsm8k:gsm8k/test/1"


def test_cli_dry_run_with_the_scripted_backend(data_dir, tmp_path, capsys):
    from metamath.cli import main

    rc = main(
        [
            "augment",
            "--config",
            "configs/augment/quickstart.yaml",
            "--out",
            str(tmp_path),
            "teacher.backend=scripted",
            "teacher.options={p_correct: 0.5}",
            "--no-progress",
        ]
    )
    assert rc == 0
    for f in ("metamathqa.jsonl", "rejected.jsonl", "stats.json", "DATA_CARD.md", "config.yaml"):
        assert (tmp_path / f).stat().st_size > 0, f
    assert "rows; wrote" in capsys.readouterr().out


def test_cli_shards_and_merge(data_dir, tmp_path):
    from metamath.cli import main

    common = [
        "--config",
        "configs/augment/quickstart.yaml",
        "teacher.backend=scripted",
        "decontaminate=false",
        "--no-progress",
    ]
    assert main(["augment", *common, "--out", str(tmp_path / "all")]) == 0
    for i in range(3):
        assert (
            main(["augment", *common, "--shard", f"{i}/3", "--out", str(tmp_path / f"s{i}")]) == 0
        )
    assert (
        main(
            [
                "augment",
                *common,
                "--merge",
                *(str(tmp_path / f"s{i}") for i in range(3)),
                "--out",
                str(tmp_path / "merged"),
            ]
        )
        == 0
    )
    assert (tmp_path / "merged" / "metamathqa.jsonl").read_bytes() == (
        tmp_path / "all" / "metamathqa.jsonl"
    ).read_bytes()


def test_completion_style_prompts(seeds, tmp_path):
    """Base-model prompts (raw few-shot text with a stop string) run end to end too."""
    cfg = make_cfg(
        seeds=[SeedConfig(name="gsm8k", limit=5), SeedConfig(name="math", limit=5)],
        style="completion",
    )
    sub = [s for s in seeds if s.id in {f"gsm8k/train/{i}" for i in range(1, 6)}] + [
        s for s in seeds if s.kind == "math"
    ][:5]
    st = run_augment(cfg, tmp_path, llm=ScriptedTeacher(sub, p_correct=1.0, p_bad_rewrite=0.0))
    assert all(v["kept"] > 0 for v in st["techniques"].values())


def test_augment_imports_no_torch_or_network_client():
    code = (
        "import sys, metamath.augment, metamath.augment.pipeline, metamath.cli.augment; "
        "bad = [m for m in ('torch', 'transformers', 'openai', 'aiohttp') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
