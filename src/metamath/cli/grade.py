"""`metamath grade`: grade a JSONL file of completions with the same grader that filters data.

    metamath grade completions.jsonl --task math --output graded.jsonl
    metamath grade samples.jsonl --task gsm8k --workers 8 --mode strict
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
with both extractions, to an audit JSONL (default: beside --output, else beside the input, as
NAME.audit.jsonl); the summary gains an `audit` object with the counts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HELP = "grade completions against gold answers (strict and flexible extraction)"
DESCRIPTION = __doc__
CHUNK = 256  # lines per task sent to a worker process
TASKS = ("gsm8k", "math", "gsm8k_backward")
PARALLEL_BYTES = 1 << 20  # files above 1 MB use all cores unless --workers says otherwise


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="JSONL with `completion` and `gold` or `solution` per row")
    p.add_argument(
        "--task",
        default="auto",
        choices=("auto",) + TASKS,
        help="grader for every row; auto (default): each row's `task` field, as in "
        "the samples.jsonl that `metamath eval` writes",
    )
    p.add_argument("--output", "-o", help="write graded rows here (JSONL)")
    p.add_argument(
        "--mode",
        default="flexible",
        choices=("strict", "flexible"),
        help="which extraction sets `correct` (both are reported; default flexible)",
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
        "with both extractions (default path: OUTPUT.audit.jsonl, else INPUT.audit.jsonl)",
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
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def grade_line(no: int, raw: bytes | None, opts: dict[str, Any]) -> dict[str, Any] | None:
    """Grade one raw JSONL line (None: a line over --max-row-bytes, not read); bad input
    becomes a row with reason "error" (never raises)."""
    from metamath.answers import gold_from_solution, grade_both
    from metamath.text import clean_obj, decode_utf8

    if raw is None:
        limit = opts.get("max_row_bytes")
        return _error(no, f"the row is over the limit of {limit:,} bytes; raise --max-row-bytes")
    if not raw.strip():
        return None
    try:
        text = decode_utf8(raw, first=no == 1)  # a BOM at the start of the file is fine
    except UnicodeDecodeError as e:
        return _error(
            no, f"not valid UTF-8 (byte {e.start} of the line); re-encode the file as UTF-8"
        )
    try:
        row = json.loads(text)
    except ValueError as e:
        return _error(no, f"not valid JSON ({e}); one JSON object per line")
    if not isinstance(row, dict):
        return _error(no, f"expected a JSON object, got {type(row).__name__}")
    row = clean_obj(row)
    completion = row.get(opts["completion_field"])
    if not isinstance(completion, str):
        return _error(
            no,
            f"field '{opts['completion_field']}' is missing or not a string "
            f"(row has: {', '.join(sorted(row))}); pass --completion-field",
            row,
        )
    task = opts["task"] if opts["task"] != "auto" else row.get("task")
    if task not in TASKS:
        return _error(
            no,
            f"field 'task' is {task!r}, not one of {', '.join(TASKS)}; pass --task to grade "
            "every row with one grader",
            row,
        )
    gold = row.get(opts["gold_field"])
    if gold is None and isinstance(row.get(opts["solution_field"]), str):
        gold = gold_from_solution(row[opts["solution_field"]], task)
    if gold is None or not str(gold).strip():
        return _error(
            no,
            f"no gold answer: field '{opts['gold_field']}' is missing and field "
            f"'{opts['solution_field']}' has no final answer; pass --gold-field",
            row,
        )
    strict, flexible = grade_both(completion, str(gold), task, timeout=opts["timeout"])
    g = strict if opts["mode"] == "strict" else flexible
    out = {
        **row,
        "gold": str(gold),
        "extracted": g.extracted,
        "correct": g.correct,
        "reason": g.reason,
        "mode": g.mode,
        "correct_strict": strict.correct,
    }
    if opts.get("audit"):
        from metamath.answers.audit import audit

        a = audit(completion, str(gold), task, ours=g, timeout=max(10.0, opts["timeout"]))
        out["math_verify"] = {
            "correct": a["math_verify_correct"],
            "extracted": a["math_verify_extracted"],
        }
        out["_audit"] = a
    return out


def _error(no: int, msg: str, row: dict[str, Any] | None = None) -> dict[str, Any]:
    base = dict(row) if row else {}
    return {
        **base,
        "line": no,
        "extracted": None,
        "correct": False,
        "reason": "error",
        "correct_strict": False,
        "error": f"line {no}: {msg}",
    }


def _grade_chunk(
    args: tuple[list[tuple[int, bytes | None, int]], dict[str, Any]],
) -> tuple[list[str], list[tuple[bool, bool, str, Any]], int, list[str]]:
    """One chunk of lines -> (output JSON lines, (correct, correct_strict, reason, audit) per
    row, bytes consumed, audit JSON lines of the rows where math-verify disagrees). Rows are
    serialised here, in the worker, so the parent only writes."""
    chunk, opts = args
    lines, stats, audits = [], [], []
    for no, raw, _ in chunk:
        r = grade_line(no, raw, opts)
        if r is None:
            continue
        a = r.pop("_audit", None)
        lines.append(json.dumps(r, ensure_ascii=False) + "\n")
        stats.append((bool(r["correct"]), bool(r["correct_strict"]), r["reason"], a))
        if a is not None and not a["agree"]:
            keep = {k: r[k] for k in ("id", "task") if k in r}
            audits.append(
                json.dumps(
                    {
                        "line": no,
                        **keep,
                        "gold": r["gold"],
                        **a,
                        "completion": r.get(opts["completion_field"]),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    return lines, stats, sum(size for _, _, size in chunk), audits


def _chunks(path: Path, max_bytes: int) -> Iterator[list[tuple[int, bytes | None, int]]]:
    from metamath.io import bounded_lines

    chunk: list[tuple[int, bytes | None, int]] = []
    with open(path, "rb") as f:
        for item in bounded_lines(f, max_bytes):  # a longer line is never held whole
            chunk.append(item)
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _audit_path(args: argparse.Namespace, path: Path) -> Path:
    if args.audit != "auto":
        return Path(args.audit)
    base = Path(args.output) if args.output else path
    return base.with_name(base.name.removesuffix(".jsonl") + ".audit.jsonl")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    path = Path(args.input)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (the JSONL of completions to grade)")
    if args.output and Path(args.output).resolve() == path.resolve():
        raise ValueError(f"--output {args.output} is the input file; write somewhere else")
    opts = {
        "task": args.task,
        "mode": args.mode,
        "timeout": args.timeout,
        "completion_field": args.completion_field,
        "gold_field": args.gold_field,
        "solution_field": args.solution_field,
        "max_row_bytes": args.max_row_bytes,
        "audit": bool(args.audit),
    }
    audit_path = _audit_path(args, path) if args.audit else None
    size = path.stat().st_size
    workers = args.workers or ((os.cpu_count() or 1) if size > PARALLEL_BYTES else 1)
    counts: Counter[str] = Counter()
    n = correct = correct_strict = 0
    audit_counts: Counter[str] = Counter()
    start = time.monotonic()
    out = open(args.output, "w", encoding="utf-8") if args.output else None
    audit_out = open(audit_path, "w", encoding="utf-8") if audit_path else None
    bar = tqdm(
        total=size,
        unit="B",
        unit_scale=True,
        desc="grade",
        disable=args.no_progress,
        file=sys.stderr,
    )
    try:
        tasks = ((c, opts) for c in _chunks(path, args.max_row_bytes))
        if workers > 1:
            import multiprocessing as mp

            # spawn: no inherited locks or worker pipes; imap keeps the input order
            pool = mp.get_context("spawn").Pool(workers)
            results = pool.imap(_grade_chunk, tasks)
        else:
            pool, results = None, map(_grade_chunk, tasks)
        try:
            for lines, stats, nbytes, audits in results:
                for ok, ok_strict, reason, a in stats:
                    n += 1
                    correct += ok
                    correct_strict += ok_strict
                    counts[reason] += 1
                    if a is not None:
                        audit_counts["rows"] += 1
                        audit_counts["math_verify_correct"] += a["math_verify_correct"]
                        if not a["agree"]:
                            side = "ours_only" if a["ours_correct"] else "math_verify_only"
                            audit_counts[side] += 1
                if out:
                    out.writelines(lines)
                if audit_out:
                    audit_out.writelines(audits)
                bar.update(nbytes)
        finally:
            if pool is not None:
                pool.close()
                pool.join()
    finally:
        bar.close()
        if out:
            out.close()
        if audit_out:
            audit_out.close()
    elapsed = time.monotonic() - start
    if n == 0:
        raise ValueError(
            f"{path}: no rows to grade (the file is empty or blank); expected one JSON object "
            "per line with `completion` and `gold` or `solution`"
        )
    summary = {
        "n": n,
        "correct": correct,
        "accuracy": correct / n if n else 0.0,
        "correct_strict": correct_strict,
        "accuracy_strict": correct_strict / n if n else 0.0,
        "reasons": dict(sorted(counts.items())),
        "task": args.task,
        "mode": args.mode,
        "errors": counts.get("error", 0),
        "workers": workers,
        "seconds": round(elapsed, 3),
        "rows_per_s": round(n / elapsed, 1) if elapsed else None,
        "input": str(path),
        "output": args.output,
    }
    if audit_path:
        rows = audit_counts["rows"]
        differ = audit_counts["ours_only"] + audit_counts["math_verify_only"]
        summary["audit"] = {
            "rows": rows,
            "disagree": differ,
            "ours_only_correct": audit_counts["ours_only"],
            "math_verify_only_correct": audit_counts["math_verify_only"],
            "math_verify_accuracy": audit_counts["math_verify_correct"] / rows if rows else 0.0,
            "agreement": 1 - differ / rows if rows else 1.0,
            "path": str(audit_path),
        }
    if counts.get("error"):
        print(
            f"{counts['error']} rows could not be graded (reason 'error'; see the `error` field"
            f"{' in ' + args.output if args.output else ''})",
            file=sys.stderr,
        )
    print(
        f"graded {n} rows: accuracy {summary['accuracy']:.4f} ({args.mode}), "
        f"{summary['accuracy_strict']:.4f} (strict)"
    )
    if audit_path:
        a = summary["audit"]
        print(
            f"audit: math-verify {a['math_verify_accuracy']:.4f}; the graders disagree on "
            f"{a['disagree']} of {a['rows']} rows ({a['ours_only_correct']} only ours accepts, "
            f"{a['math_verify_only_correct']} only math-verify accepts), listed in {audit_path}"
        )
    print(json.dumps(summary))
    return 0
