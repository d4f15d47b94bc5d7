"""Grader throughput and agreement: ours vs math-verify vs MetaMath's string normalisation.

    python benchmarks/grader.py                      # 400 GSM8K + 400 MATH test records + real set
    python benchmarks/grader.py --limit 0 --out results.json   # every test record
    python benchmarks/grader.py --real PATH/real_outputs.jsonl  # the real-output set elsewhere

Two input sets, each graded by every grader in one process pinned to one core:

1. Real model outputs with their sources' verdicts ($METAMATH_DATA/real_outputs, or --real;
   skipped with the reason when absent; see benchmarks/_real_outputs.py): agreement with the
   labels for ours, math-verify and math-verify$ (all rows, per source, per task, and without
   the rows whose label the set's own audit judged wrong), answers/s, and every row where ours
   and the label disagree, by failure class.
2. Text built from the gold solutions:
   real GSM8K and MATH test solutions used as completions, in two forms each:
  raw       the reference solution as written (ends "#### N" or with \\boxed{...})
  metamath  the same solution plus the MetaMathQA answer line "The answer is: {gold}"
and each completion is graded against its own gold (label: correct) and against the gold of
another record with a different answer (label: wrong). So every grader sees the same
(completion, gold) pairs, with known labels, in one process on one core. Graders:
  ours         metamath.answers.grade(completion, gold, task)            (flexible mode)
  math-verify  verify(parse(gold), parse(completion))                   (its defaults)
  math-verify$ verify(parse("$" + gold + "$"), parse(completion))        (gold as LaTeX)
  metamath     eval_gsm8k.py / eval_math.py extraction + util.py strip_string, re-implemented
               from the method reference (sections 4.2-4.4)
Printed: answers per second, accuracy against the labels, the speed ratio ours/math-verify
measured in this run, and the pairwise agreement of the graders.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import _real_outputs  # noqa: E402

from metamath.answers import grade  # noqa: E402
from metamath.answers.equiv import _check_cached, fast_verdict  # noqa: E402
from metamath.answers.extract import extract  # noqa: E402
from metamath.answers.symbolic import symbolic_equiv  # noqa: E402
from metamath.data import load  # noqa: E402

# ---- MetaMath's evaluation, re-implemented from the method reference (4.2-4.4) -------------


def _fix_fracs(s: str) -> str:
    subs = s.split("\\frac")
    out = subs[0]
    for sub in subs[1:]:
        out += "\\frac"
        if sub and sub[0] == "{":
            out += sub
            continue
        if len(sub) < 2:
            return s
        a, b = sub[0], sub[1]
        if b != "{":
            out += "{" + a + "}{" + b + "}" + sub[2:]
        else:
            out += "{" + a + "}" + b + sub[2:]
    return out


def _fix_a_slash_b(s: str) -> str:
    if len(s.split("/")) != 2:
        return s
    a, b = s.split("/")
    try:
        a_i, b_i = int(a), int(b)
        assert s == f"{a_i}/{b_i}"
        return "\\frac{" + str(a_i) + "}{" + str(b_i) + "}"
    except (ValueError, AssertionError):
        return s


def _remove_right_units(s: str) -> str:
    if "\\text{ " in s:
        parts = s.split("\\text{ ")
        assert len(parts) == 2  # util.py asserts; is_equiv then falls back to raw equality
        return parts[0]
    return s


def _fix_sqrt(s: str) -> str:
    if "\\sqrt" not in s:
        return s
    parts = s.split("\\sqrt")
    out = parts[0]
    for p in parts[1:]:
        out += "\\sqrt" + (p if p and p[0] == "{" else "{" + p[:1] + "}" + p[1:])
    return out


def strip_string(s: str) -> str:
    s = s.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    s = s.replace("tfrac", "frac").replace("dfrac", "frac")
    s = s.replace("\\left", "").replace("\\right", "")
    s = s.replace("^{\\circ}", "").replace("^\\circ", "").replace("\\$", "")
    s = _remove_right_units(s)
    s = s.replace("\\%", "").replace(r"\%", "")
    s = s.replace(" .", " 0.").replace("{.", "{0.")
    if not s:
        return s
    if s[0] == ".":
        s = "0" + s
    if len(s.split("=")) == 2 and len(s.split("=")[0]) <= 2:
        s = s.split("=")[1]
    s = _fix_sqrt(s).replace(" ", "")
    s = _fix_fracs(s)
    if s == "0.5":
        s = "\\frac{1}{2}"
    return _fix_a_slash_b(s)


def metamath_is_equiv(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    try:
        return strip_string(a) == strip_string(b)
    except Exception:
        return a == b


def metamath_grade(completion: str, gold: str, task: str) -> bool:
    if "The answer is: " not in completion:
        return False  # "invalid": counted wrong
    text = completion.split("The answer is: ")[-1].strip()
    if task == "gsm8k":
        m = re.search(r"[\-+]?\d*[\.,/]?\d+", text)
        if not m:
            return False
        tok = m.group(0)
        try:
            if "/" in tok:
                num, den = tok.split("/")
                val = float(num) if float(den) == 0 else float(num) / float(den)
            else:
                val = float(tok.replace(",", ""))
            if val == float("inf"):
                return False
            return float(round(val)) == float(gold)
        except ValueError:
            return False
    text = text.split(".\n")[0].strip()
    if text.endswith("."):
        text = text[:-1]
    return metamath_is_equiv(text, gold)


# ---- inputs -------------------------------------------------------------------------------


def build_items(limit: int, seed: int) -> list[dict]:
    items = []
    rng = random.Random(seed)
    for name in ("gsm8k", "math"):
        probs = list(load(name, "test"))
        rng.shuffle(probs)
        probs = probs[:limit] if limit else probs
        for i, p in enumerate(probs):
            other = next(q for q in probs[i + 1 :] + probs[:i] if _key(q.gold) != _key(p.gold))
            sol = p.solution or ""
            mm = sol.rstrip() + f"\nThe answer is: {p.gold}"
            for form, text in (("raw", sol), ("metamath", mm)):
                items.append(dict(task=name, form=form, completion=text, gold=p.gold, label=True))
                items.append(
                    dict(task=name, form=form, completion=text, gold=other.gold, label=False)
                )
    return items


def _key(g: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", g)  # "\\frac{1}{2}" and "\\frac12" count as the same gold


# ---- graders ------------------------------------------------------------------------------

BLOCK = 200  # pairs per timed block


def run_ours(items):
    _check_cached.cache_clear()
    return [grade(it["completion"], it["gold"], it["task"]).correct for it in items]


def run_ours_grades(items):
    _check_cached.cache_clear()
    return [grade(it["completion"], it["gold"], it["task"]) for it in items]


def timed(items, graders) -> tuple[dict, dict]:
    """Verdicts and answers/s per grader, interleaved in blocks so that a change in machine
    load hits every grader alike."""
    verdicts = {name: [] for name in graders}
    spent = dict.fromkeys(graders, 0.0)
    for start in range(0, len(items), BLOCK):
        block = items[start : start + BLOCK]
        for name, fn in graders.items():
            t = time.perf_counter()
            verdicts[name] += fn(block)
            spent[name] += time.perf_counter() - t
    return verdicts, {name: len(items) / spent[name] for name in graders}


def real_outputs(path: Path, limit: int) -> dict | None:
    """Agreement with the sources' labels and answers/s on real model outputs."""
    if not path.exists():
        print(
            f"real outputs: skipped, no file at {path} (set METAMATH_DATA to the data folder "
            "that holds real_outputs/, or pass --real PATH)"
        )
        return None
    rows, wrong = _real_outputs.load(path, limit)
    graders = {
        "ours": run_ours_grades,
        "math-verify": lambda xs: run_math_verify(xs, wrap=False),
        "math-verify$": lambda xs: run_math_verify(xs, wrap=True),
    }
    for fn in graders.values():
        fn(rows[:4])
    verdicts, rate = timed(rows, graders)
    grades = verdicts["ours"]
    verdicts["ours"] = [g.correct for g in grades]
    rep = _real_outputs.label_report(rows, verdicts, wrong, grades)
    n_src = len({r["source"].split("@")[0] for r in rows})
    fams = len({r.get("family") for r in rows})
    print(
        f"\nreal outputs: {len(rows)} rows from {n_src} public releases, {fams} model families "
        f"({path}); {rep['audited_labels_in_set']} labels judged wrong by the set's audit"
    )
    print(f"{'grader':14}{'answers/s':>12}{'agreement':>11}{'w/o audited':>13}")
    for name in graders:
        r = rep[name]
        r["answers_per_s"] = rate[name]
        print(
            f"{name:14}{rate[name]:>12.1f}{r['agreement']:>11.4f}"
            f"{r['agreement_without_audited_labels']:>13.4f}"
        )
    for base in ("math-verify", "math-verify$"):
        rep[f"speed_ratio_vs_{base}"] = rate["ours"] / rate[base]
        print(f"speed ratio ours / {base}: {rate['ours'] / rate[base]:.3g}x")
    for key in ("by_source", "by_task"):
        for group in rep["ours"][key]:
            print(f"  {group:45}" + "".join(f" {n} {rep[n][key][group]:.4f}" for n in graders))
    print(f"rows where ours and the label disagree: {len(rep['disagreements'])}, by class:")
    for cls, k in rep["by_class"].items():
        print(f"  {k:5}  {cls}")
        for d in rep["disagreements"]:
            if d["class"] == cls:
                print(
                    f"         {d['id']}: label {d['label']}, gold {d['gold']!r}, ours "
                    f"{str(d['ours_extracted'])[:60]!r} ({d['ours_reason']})"
                )
    return rep


def run_math_verify(items, wrap: bool):
    from math_verify import parse, verify

    out = []
    for it in items:
        try:
            g = parse(f"${it['gold']}$" if wrap else it["gold"])
            out.append(bool(verify(g, parse(it["completion"]))))
        except Exception:
            out.append(False)
    return out


def run_metamath(items):
    return [metamath_grade(it["completion"], it["gold"], it["task"]) for it in items]


def equivalence_table() -> dict:
    """Ours vs math-verify on the regression table: equivalents accepted, near misses rejected."""
    import importlib.util

    from math_verify import parse, verify

    from metamath.answers import is_equiv

    path = Path(__file__).resolve().parent.parent / "tests" / "test_answers_table.py"
    spec = importlib.util.spec_from_file_location("answers_table", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = {"n": len(mod.CASES)}
    for name, eq in (
        ("ours", lambda p, g: is_equiv(p, g)),
        ("math-verify$", lambda p, g: bool(verify(parse(f"${g}$"), parse(f"${p}$")))),
    ):
        ok_eq = sum(eq(e, g) for g, e, _ in mod.CASES)
        ok_nm = sum(not eq(nm, g) for g, _, nm in mod.CASES)
        out[name] = {"equivalent_accepted": ok_eq, "near_miss_rejected": ok_nm}
        print(
            f"table ({len(mod.CASES)} MATH golds) {name}: equivalents accepted {ok_eq}, "
            f"near misses rejected {ok_nm}"
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=400, help="records per dataset (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--real",
        type=Path,
        default=_real_outputs.default_path(),
        help="real_outputs.jsonl (default: $METAMATH_DATA/real_outputs/real_outputs.jsonl)",
    )
    ap.add_argument("--real-limit", type=int, default=0, help="first N real rows (0: all)")
    ap.add_argument("--out", help="write the figures and the disagreements here (JSON)")
    ap.add_argument(
        "--table",
        action="store_true",
        help="also run ours and math-verify$ on tests/test_answers_table.py (MATH "
        "golds, each with an equivalent form and a near miss)",
    )
    args = ap.parse_args()
    try:  # one core, for the whole process and the math-verify worker it starts
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        print("could not pin to one core (no sched_setaffinity here)")

    symbolic_equiv(r"\sin^2 x + \cos^2 x", "1", timeout=60)  # start the math-verify worker
    real = real_outputs(args.real, args.real_limit)
    print()
    items = build_items(args.limit, args.seed)
    labels = [it["label"] for it in items]
    graders = {
        "ours": run_ours,
        "math-verify": lambda xs: run_math_verify(xs, wrap=False),
        "math-verify$": lambda xs: run_math_verify(xs, wrap=True),
        "metamath": run_metamath,
    }
    for fn in graders.values():  # warm up: imports, regex caches
        fn(items[:4])
    verdicts, rate = timed(items, graders)

    print(
        f"{len(items)} (completion, gold) pairs from {args.limit or 'all'} GSM8K + MATH test "
        "records (raw and MetaMath-format solutions; own gold and another record's gold)"
    )
    print(
        f"{'grader':14}{'answers/s':>12}{'acc all':>9}{'gsm8k':>8}{'math':>8}"
        f"{'raw':>8}{'metamath':>10}"
    )
    results = {"n": len(items), "limit": args.limit, "graders": {}, "real_outputs": real}
    for name in graders:
        v = verdicts[name]

        def acc(pred, v=v):
            idx = [i for i, it in enumerate(items) if pred(it)]
            return sum(v[i] == labels[i] for i in idx) / max(1, len(idx))

        row = {
            "answers_per_s": rate[name],
            "accuracy": acc(lambda it: True),
            "gsm8k": acc(lambda it: it["task"] == "gsm8k"),
            "math": acc(lambda it: it["task"] == "math"),
            "raw": acc(lambda it: it["form"] == "raw"),
            "metamath_form": acc(lambda it: it["form"] == "metamath"),
        }
        results["graders"][name] = row
        print(
            f"{name:14}{row['answers_per_s']:>12.1f}{row['accuracy']:>9.4f}"
            f"{row['gsm8k']:>8.4f}{row['math']:>8.4f}{row['raw']:>8.4f}"
            f"{row['metamath_form']:>10.4f}"
        )
    for base in ("math-verify", "math-verify$", "metamath"):
        print(f"speed ratio ours / {base}: {rate['ours'] / rate[base]:.3g}x")
    names = list(graders)
    agree = {}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            agree[f"{a} vs {b}"] = sum(
                x == y for x, y in zip(verdicts[a], verdicts[b], strict=True)
            ) / len(items)
            print(f"agreement {a} vs {b}: {agree[f'{a} vs {b}']:.4f}")
    results["agreement"] = agree
    slow = [(it["gold"], extract(it["completion"], "flexible", it["task"])) for it in items]
    slow = [(g, p) for g, p in slow if p is not None and fast_verdict(p, g) is None]
    results["symbolic_share"] = len(slow) / len(items)
    results["symbolic_pairs"] = slow
    print(
        f"pairs settled by math-verify (not the fast path) in ours: {len(slow)} "
        f"({len(slow) / len(items):.1%})"
    )
    results["speed_ratio_vs_math_verify"] = rate["ours"] / rate["math-verify"]
    dis = [
        dict(
            task=it["task"],
            form=it["form"],
            gold=it["gold"],
            label=it["label"],
            completion_tail=it["completion"][-160:],
            **{n: verdicts[n][k] for n in names},
        )
        for k, it in enumerate(items)
        if verdicts["ours"][k] != labels[k] or verdicts["math-verify$"][k] != labels[k]
    ]
    results["errors_ours_or_math_verify$"] = dis
    print(
        f"pairs where ours or math-verify$ disagree with the label: {len(dis)} "
        f"(ours wrong: {sum(d['ours'] != d['label'] for d in dis)}, "
        f"math-verify$ wrong: {sum(d['math-verify$'] != d['label'] for d in dis)})"
    )
    if args.table:
        results["table"] = equivalence_table()
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
