"""`metamath grade`: grade a JSONL file of completions with the same grader that filters data.

    metamath grade completions.jsonl --task math --out graded.jsonl
    metamath grade samples.jsonl --task gsm8k --workers 8 --grade-mode strict
    metamath grade runs/eval/x/samples.jsonl          # each row's own `task` field
    metamath grade samples.jsonl --audit                # + where math-verify disagrees with us

Each input row has `completion` and either `gold` (the final answer; a gold that is a whole
solution is graded by its own final answer) or `solution` (a reference solution: its final
answer is read as a completion's is: '#### N', 'The answer is', the last \\boxed{}). Output
rows are the input rows plus `extracted`, `correct`, `reason`, `mode` (the rule that found the
answer) and the strict-mode `correct_strict`. A line that is not valid UTF-8 or JSON, or lacks a
field, becomes a row with reason "error" and an `error` naming the line and the fix. The last
line printed is one JSON object: n, correct, accuracy, accuracy_strict, reasons, ...
An input without any row is an error (exit status 2). A UTF-8 BOM at the start is accepted.

--audit also grades every row with math-verify (`verify(parse(gold), parse(completion))`, the
gold read as LaTeX; metamath.answers.audit) and writes each row where the two verdicts differ,
with both extractions, to an audit JSONL (default: beside --out, else beside the input, as
NAME.audit.jsonl); the summary gains an `audit` object with the counts.
"""

from __future__ import annotations

import argparse
import json
import sys

from metamath.answers.extract import GRADERS, MODES
from metamath.cli import _flags as flags
from metamath.report import plural

HELP = "grade completions against gold answers (strict and flexible extraction)"
DESCRIPTION = __doc__


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="JSONL with `completion` and `gold` or `solution` per row")
    p.add_argument(
        "--task",
        default="auto",
        choices=("auto", *GRADERS),
        help="grader for every row; auto (default): each row's `task` field, as in "
        "the samples.jsonl that `metamath eval` writes",
    )
    flags.out(p, "write graded rows here (JSONL)", "-o")
    flags.renamed(p, "--output", "--out", dest="out")
    flags.grade_mode(
        p,
        list(MODES),
        "flexible",
        "which extraction sets `correct` (both are reported; default flexible)",
    )
    p.add_argument(
        "--timeout", type=float, default=2.0, help="seconds per symbolic comparison (default 2)"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        help="processes (default: all cores for files over 1 MB, else 1)",
    )
    p.add_argument(
        "--audit",
        nargs="?",
        const="auto",
        metavar="PATH",
        help="also grade with math-verify and write the rows where it disagrees with ours, "
        "with both extractions (default path: OUT.audit.jsonl, else INPUT.audit.jsonl)",
    )
    p.add_argument("--completion-field", default="completion")
    p.add_argument("--gold-field", default="gold")
    p.add_argument("--solution-field", default="solution")
    p.add_argument(
        "--max-row-bytes",
        type=int,
        default=1 << 20,
        help="a longer line is graded as an error without being read (default 1 MiB)",
    )
    flags.no_progress(p)


def run(args: argparse.Namespace) -> int:
    from metamath.answers.grading import GradeConfig, grade_file

    cfg = GradeConfig(
        input=args.input,
        out=args.out,
        task=args.task,
        grade_mode=args.grade_mode,
        timeout=args.timeout,
        workers=args.workers,
        audit=args.audit,
        completion_field=args.completion_field,
        gold_field=args.gold_field,
        solution_field=args.solution_field,
        max_row_bytes=args.max_row_bytes,
    )
    summary = grade_file(cfg, progress=not args.no_progress)
    errors = summary["errors"]
    if errors:
        print(
            f"{plural(errors, 'row')} could not be graded (reason 'error'; see the `error` field"
            f"{' in ' + args.out if args.out else ''})",
            file=sys.stderr,
        )
    print(
        f"graded {plural(summary['n'], 'row')}: accuracy {summary['accuracy']:.4f} ({args.grade_mode}), "
        f"{summary['accuracy_strict']:.4f} (strict)"
    )
    a = summary.get("audit")
    if a:
        print(
            f"audit: math-verify {a['math_verify_accuracy']:.4f}; the graders disagree on "
            f"{a['disagree']} of {plural(a['rows'], 'row')} ({a['ours_only_correct']} only ours accepts, "
            f"{a['math_verify_only_correct']} only math-verify accepts), listed in {a['path']}"
        )
    print(json.dumps(summary))
    return 0
