"""metamath compare RUN_A RUN_B: paired test between two eval runs and the items that flipped."""

from __future__ import annotations

import argparse

from metamath.cli import _flags as flags

HELP = "compare two eval runs: paired test (McNemar / bootstrap) and flipped items"
DESCRIPTION = """\
Pairs the problems both runs scored, per task, and reports B - A with McNemar's exact test
(one sample per problem) or a paired bootstrap (several), plus the problems that flipped.

  metamath compare runs/eval/base runs/eval/metamath --grade-mode strict --json cmp.json
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_a", help="eval run directory (or its samples.jsonl)")
    p.add_argument("run_b", help="eval run directory (or its samples.jsonl)")
    flags.grade_mode(
        p,
        ["strict", "flexible", "primary"],
        "primary",
        "which grader verdict to compare (default: each run's primary)",
    )
    p.add_argument("--flips", type=int, default=10, help="flipped items to print per task")
    p.add_argument("--json", help="also write the full comparison to this JSON file")


def _primary(run: str) -> str:
    """The grade mode behind a run's `correct` column (its samples' `mode`)."""
    from pathlib import Path

    from metamath.io import read_jsonl

    path = Path(run) / "samples.jsonl" if Path(run).is_dir() else Path(run)
    for _, row in read_jsonl(path):
        return str(row.get("mode", "?"))
    return "?"


def run(args: argparse.Namespace) -> int:
    from metamath.evaluate.compare import compare_runs
    from metamath.io import write_json

    cmp = compare_runs(args.run_a, args.run_b, mode=args.grade_mode)
    mode = args.grade_mode
    if mode == "primary":  # each run's own grader: say which
        mode += f" (A: {_primary(args.run_a)}, B: {_primary(args.run_b)})"
    print(f"A = {args.run_a}\nB = {args.run_b}\nmode = {mode}")
    for task, r in cmp["tasks"].items():
        print(
            f"\n{task}: n={r['n_paired']}  A {100 * r['accuracy_a']:.1f}%  "
            f"B {100 * r['accuracy_b']:.1f}%  B-A {100 * r['difference']:+.1f} points  "
            f"{r['test']} p={r['p_value']:.4g}  gained {r['n_gained']}, lost {r['n_lost']}"
        )
        if r.get("warning"):
            print(f"  warning: {r['warning']}")
        if r["only_in_a"] or r["only_in_b"]:
            print(f"  unpaired: {r['only_in_a']} only in A, {r['only_in_b']} only in B")
        for f in r["flips"][: args.flips]:
            print(
                f"  {f['direction']:<6} {f['id']}  gold {f['gold']!r}  "
                f"A {f['a_extracted']!r}  B {f['b_extracted']!r}"
            )
    if args.json:
        write_json(args.json, cmp)
        print(f"\nwrote {args.json}")
    return 0
