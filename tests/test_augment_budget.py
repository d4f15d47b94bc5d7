"""Sampling budgets (augment/budget.py) with a scripted teacher whose per-question solve rates run
from 0.02 to 0.9: uniform reaches exactly k wherever max_samples allows, prop2diff's targets follow
the measured fail rate, a total budget serves the hardest questions first, and a uniform run killed
(SIGKILL) at two points and resumed gives byte-identical outputs without asking twice."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from metamath.augment import AugmentConfig, SeedConfig, TechniqueConfig, run_augment
from metamath.augment.budget import survivors
from metamath.augment.filter import format_response
from metamath.augment.fobar import fobar_items
from metamath.augment.generate import sample_seed
from metamath.augment.scripted import ScriptedTeacher
from metamath.augment.seeds import load_seeds

RATES = (0.02, 0.9)


def cfg_for(budget: str, **kw) -> AugmentConfig:
    tech = {"budget": budget, "k": 4, "max_samples": 24, **kw}
    cfg = AugmentConfig(
        seeds=[SeedConfig(name="gsm8k", limit=40), SeedConfig(name="math", limit=20)],
        answer_aug=TechniqueConfig(**tech),
        fobar=TechniqueConfig(**tech, max_masks=1),
        rephrase=TechniqueConfig(enabled=False),
        self_verification=TechniqueConfig(enabled=False),
        decontaminate=False,
        batch_size=32,
    )
    return cfg


@pytest.fixture(scope="module")
def seeds(data_dir):
    return load_seeds(cfg_for("fixed").seeds)[0]


def questions(cfg, seeds) -> dict[str, str]:
    """item id -> query, for the two techniques the configs enable."""
    out = {f"{s.id}/answer_aug": s.question for s in seeds}
    for s in seeds:
        out.update({i: q for i, q, _ in fobar_items(s, 1)})
    return out


def right(teacher, cfg, item: str, query: str, upto: int) -> list[int]:
    """The sample indices below `upto` the teacher answers right (its responses never repeat,
    so every right sample survives dedup)."""
    base = sample_seed(cfg, item)
    return [i for i in range(upto) if teacher.correct(query, 0, base + i)]


def kept_per_item(run: Path) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for line in (run / "metamathqa.jsonl").read_text().splitlines():
        r = json.loads(line)
        item, s = r["id"].rsplit("/s", 1)
        out.setdefault(item, []).append(int(s))
    return {k: sorted(v) for k, v in out.items()}


def drawn_per_item(run: Path) -> Counter:
    c: Counter = Counter()
    for line in (run / "work" / "candidates.jsonl").read_text().splitlines():
        c[json.loads(line)["item_id"]] += 1
    return c


def test_uniform_reaches_k_exactly_wherever_max_samples_allows(seeds, tmp_path):
    cfg = cfg_for("uniform")
    teacher = ScriptedTeacher(seeds, p_range=RATES)
    stats = run_augment(cfg, tmp_path, llm=teacher)
    kept, drawn = kept_per_item(tmp_path), drawn_per_item(tmp_path)
    reachable = 0
    for item, q in questions(cfg, seeds).items():
        ok = right(teacher, cfg, item, q, cfg.answer_aug.max_samples)
        assert drawn[item] <= cfg.answer_aug.max_samples, item
        if len(ok) >= 4:  # reachable: exactly the first 4 right samples are kept
            reachable += 1
            assert kept.get(item) == ok[:4], item
        else:  # not reachable: every sample was drawn and every right one kept
            assert drawn[item] == cfg.answer_aug.max_samples, item
            assert kept.get(item, []) == ok, item
    assert 0 < reachable < len(questions(cfg, seeds))  # both cases occur
    b = stats["budget"]["answer_aug"]
    assert b["budget"] == "uniform" and b["reached_target"] <= b["questions"]
    assert stats["budget_rounds"]["complete"] and stats["budget_rounds"]["rounds"] >= 3
    over = stats["techniques"]["answer_aug"]["rejected"].get("over_budget", 0)
    assert over > 0  # a round that overshot: the surplus is a recorded rejection
    rej = [json.loads(x) for x in (tmp_path / "rejected.jsonl").read_text().splitlines()]
    assert sum(r["reason"] == "over_budget" for r in rej) == sum(
        v["rejected"].get("over_budget", 0) for v in stats["techniques"].values()
    )


def test_prop2diff_targets_follow_the_fail_rate(seeds, tmp_path):
    cfg = cfg_for("prop2diff", k=6, first_samples=8, max_samples=40)
    teacher = ScriptedTeacher(seeds, p_range=RATES)
    run_augment(cfg, tmp_path, llm=teacher)
    kept = kept_per_item(tmp_path)
    sizes = []
    for item, q in questions(cfg, seeds).items():
        probe = right(teacher, cfg, item, q, 8)
        target = max(1, math.ceil(6 * (1 - len(probe) / 8) - 1e-9))
        ok = right(teacher, cfg, item, q, 40)
        assert kept.get(item, []) == ok[:target], item
        sizes.append((teacher.rate(q), target, len(kept.get(item, []))))
    sizes.sort()
    hard, easy = sizes[: len(sizes) // 4], sizes[-len(sizes) // 4 :]
    assert sum(t for _, t, _ in hard) > 2 * sum(t for _, t, _ in easy)  # wanted: by difficulty
    assert sum(n for _, _, n in hard) > sum(n for _, _, n in easy)  # and kept


def _coverage_of_hardest(run: Path, teacher, cfg, seeds) -> tuple[float, float, int]:
    kept = kept_per_item(run)
    qs = sorted(questions(cfg, seeds).items(), key=lambda kv: teacher.rate(kv[1]))
    hardest = qs[: len(qs) // 4]
    cov = lambda group: sum(bool(kept.get(i)) for i, _ in group) / len(group)  # noqa: E731
    return cov(hardest), cov(qs), sum(drawn_per_item(run).values())


def test_at_equal_samples_uniform_covers_the_hardest_quartile_better(seeds, tmp_path, capsys):
    fixed = cfg_for("fixed")
    teacher = ScriptedTeacher(seeds, p_range=RATES)
    run_augment(fixed, tmp_path / "fixed", llm=teacher)
    uni = cfg_for("uniform", first_samples=1, max_samples=64)
    n_fobar = sum(1 for i in questions(fixed, seeds) if "/fobar/" in i)
    uni.answer_aug.total_samples = 4 * len(seeds)  # what fixed k=4 spends, per technique
    uni.fobar.total_samples = 4 * n_fobar
    run_augment(uni, tmp_path / "uniform", llm=teacher)
    f = _coverage_of_hardest(tmp_path / "fixed", teacher, fixed, seeds)
    u = _coverage_of_hardest(tmp_path / "uniform", teacher, uni, seeds)
    with capsys.disabled():
        print(
            f"\n  hardest-quartile coverage at {f[2]} (fixed) vs {u[2]} (uniform) samples: "
            f"fixed {f[0]:.2f}, uniform {u[0]:.2f}; all questions {f[1]:.2f} vs {u[1]:.2f}"
        )
    assert u[2] == f[2]  # the same number of samples
    assert u[0] > f[0]


def _augment(out: Path, log: Path, die_after: int | None) -> int:
    env = {
        **os.environ,
        "METAMATH_SCRIPTED_LOG": str(log),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    env.pop("METAMATH_SCRIPTED_DIE_AFTER", None)
    if die_after is not None:
        env["METAMATH_SCRIPTED_DIE_AFTER"] = str(die_after)
    args = [
        sys.executable,
        "-m",
        "metamath",
        "augment",
        "--config",
        "configs/augment/quickstart.yaml",
        "teacher.backend=scripted",
        "teacher.options={p_range: [0.02, 0.9]}",
        "seeds=[{name: gsm8k, limit: 12}, {name: math, limit: 6}]",
        *(f"{t}.budget=uniform" for t in ("answer_aug", "rephrase", "fobar", "self_verification")),
        "answer_aug.k=3",
        "answer_aug.max_samples=20",
        "fobar.max_samples=12",
        "batch_size=8",
        "--out",
        str(out),
        "--no-progress",
    ]
    repo = Path(__file__).resolve().parent.parent
    return subprocess.run(args, env=env, cwd=repo, capture_output=True, text=True).returncode


OUTPUTS = ("metamathqa.jsonl", "rejected.jsonl", "stats.json", "DATA_CARD.md", "config.yaml")


def test_kill_at_two_points_and_resume_is_exact(data_dir, tmp_path):
    # both runs write a directory named "run" (the data card's title names its directory)
    whole, run = tmp_path / "whole" / "run", tmp_path / "killed" / "run"
    whole_log = tmp_path / "whole.log"
    assert _augment(whole, whole_log, None) == 0
    sent = [json.loads(x) for x in whole_log.read_text().splitlines()]
    first = sum("@" not in r["id"] for r in sent)  # requests of round 1 (and stage 1)
    later = len(sent) - first
    assert later > 4  # there are later rounds to be killed in
    log = tmp_path / "killed.log"
    plans = run / "work" / "budget.jsonl"
    assert _augment(run, log, first // 2) == -9  # killed in round 1
    assert not plans.exists()
    assert _augment(run, log, first - first // 2 + later // 2) == -9  # in a later round
    assert len(plans.read_text().splitlines()) >= 2  # settings + the plan of round 2 at least
    assert _augment(run, log, None) == 0
    killed = [json.loads(x) for x in log.read_text().splitlines()]
    # the cache tags what it sends (id#cacheN, N counting per process): the request is the rest
    key = lambda r: (r["id"].split("#cache")[0], r["seed"], r["n"])  # noqa: E731
    assert len({key(r) for r in killed}) == len(killed)  # no request answered twice
    assert sorted(map(key, killed)) == sorted(map(key, sent))  # the same requests overall
    for name in OUTPUTS:
        assert (run / name).read_bytes() == (whole / name).read_bytes()


def test_survivors_match_the_assembly_rule():
    words: dict = {}
    a = format_response("We add 2 and 3 to get five.\nThe answer is: 5", "5", "gsm8k")
    b = format_response("We add 2 and 3 to get five!\nThe answer is: 5", "5", "gsm8k")
    c = format_response("Two plus three makes five in total.\nThe answer is: 5", "5", "gsm8k")
    rows = [(3, "q", c), (0, "q", a), (1, "q", a), (2, "q", b)]
    assert survivors(rows, 0.9, words) == [0, 3]  # 1: exact copy of 0; 2: near copy of 0
    assert survivors(rows, 1.0, words) == [0, 2, 3]  # near-duplicate removal off


def test_changed_budget_settings_are_refused_on_resume(seeds, tmp_path):
    small = [s for s in seeds if s.kind == "gsm8k"][:5]
    cfg = cfg_for("uniform")
    cfg.seeds = [SeedConfig(name="gsm8k", limit=5)]
    run_augment(cfg, tmp_path, llm=ScriptedTeacher(small, p_range=RATES))
    cfg.answer_aug.k = 6
    with pytest.raises(ValueError, match="budget.jsonl: this run's budget rounds were planned"):
        run_augment(cfg, tmp_path, llm=ScriptedTeacher(small, p_range=RATES))


@pytest.mark.parametrize(
    "override,message",
    [
        ({"budget": "dart"}, "budget='dart': use one of fixed, uniform, prop2diff"),
        ({"budget": "uniform", "max_samples": 2}, "first_samples"),
        ({"budget": "uniform", "total_samples": -1}, "total_samples must be >= 0"),
    ],
)
def test_bad_budget_settings(override, message):
    cfg = cfg_for("fixed")
    for k, v in override.items():
        setattr(cfg.answer_aug, k, v)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("'", "'")):
        cfg.check()
