"""Grade a JSONL file of completions with the one grader: the engine of `metamath grade`.

    summary = grade_file(GradeConfig(input="samples.jsonl", out="graded.jsonl", audit="auto"))

Each input row has `completion` and either `gold` (the final answer; a gold that is a whole
solution is graded by its own final answer) or `solution` (a reference solution, whose final
answer is read as a completion's is). Output rows are the input rows plus `extracted`,
`correct`, `reason`, `mode` (the rule that found the answer) and the strict-mode
`correct_strict`. A line that is not valid UTF-8 or JSON, or lacks a field, becomes a row with
reason "error" and an `error` naming the line and the fix: nothing is dropped. Big files are
graded by a pool of processes, in chunks of lines, in input order.

With `audit`, every row is also graded by math-verify (metamath.answers.audit) and each row
where the two verdicts differ is written, with both extractions, to the audit JSONL.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from metamath.answers.extract import GRADERS, Grader, Mode
from metamath.config import ConfigError, check_literals

CHUNK = 256  # lines per task sent to a worker process
PARALLEL_BYTES = 1 << 20  # files above 1 MB use all cores unless `workers` says otherwise


@dataclass
class GradeConfig:
    input: str = ""  # the JSONL of completions
    out: str | None = None  # graded rows (JSONL); None: the summary only
    task: Literal["auto", Grader] = "auto"  # auto: each row's own `task` field
    grade_mode: Mode = "flexible"  # which extraction sets `correct` (both are reported)
    timeout: float = 2.0  # seconds per symbolic comparison
    workers: int = 0  # processes; 0: all cores for files over 1 MB, else 1
    # rows where math-verify disagrees with ours go to this JSONL; "auto": OUT.audit.jsonl,
    # else INPUT.audit.jsonl; None: no audit
    audit: str | None = None
    completion_field: str = "completion"
    gold_field: str = "gold"
    solution_field: str = "solution"
    max_row_bytes: int = 1 << 20  # a longer line is graded as an error without being read

    def check(self) -> None:
        """ConfigError (or FileNotFoundError) naming the key, the value and the fix."""
        check_literals(self)
        path = Path(self.input)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file (the JSONL of completions to grade)")
        if self.out and Path(self.out).resolve() == path.resolve():
            raise ConfigError(f"--out {self.out} is the input file; write somewhere else", "out")

    def audit_path(self) -> Path | None:
        if not self.audit:
            return None
        if self.audit != "auto":
            return Path(self.audit)
        base = Path(self.out) if self.out else Path(self.input)
        return base.with_name(base.name.removesuffix(".jsonl") + ".audit.jsonl")


def grade_line(no: int, raw: bytes | None, cfg: GradeConfig) -> dict[str, Any] | None:
    """Grade one raw JSONL line (None: a line over max_row_bytes, not read); bad input
    becomes a row with reason "error" (never raises). A blank line is no row (None)."""
    from metamath.answers import grade_both

    row, bad = _read_row(no, raw, cfg)
    if row is None:
        return bad  # an error row, or None for a blank line
    completion = row.get(cfg.completion_field)
    task = cfg.task if cfg.task != "auto" else row.get("task")
    gold = _gold(row, task, cfg)
    problem = _missing(row, completion, task, gold, cfg)
    if problem:
        return _error(no, problem, row)
    strict, flexible = grade_both(completion, str(gold), task, timeout=cfg.timeout)
    g = strict if cfg.grade_mode == "strict" else flexible
    out = {
        **row,
        "gold": str(gold),
        "extracted": g.extracted,
        "correct": g.correct,
        "reason": g.reason,
        "mode": g.mode,
        "correct_strict": strict.correct,
    }
    if cfg.audit:
        from metamath.answers.audit import audit

        a = audit(completion, str(gold), task, ours=g, timeout=max(10.0, cfg.timeout))
        out["math_verify"] = {
            "correct": a["math_verify_correct"],
            "extracted": a["math_verify_extracted"],
        }
        out["_audit"] = a
    return out


def _read_row(no: int, raw: bytes | None, cfg: GradeConfig) -> tuple[dict | None, dict | None]:
    """(the line as a cleaned JSON object, None), or (None, its error row), or (None, None)
    for a blank line."""
    from metamath.text import clean_obj, decode_utf8

    if raw is None:
        limit = cfg.max_row_bytes
        return None, _error(
            no, f"the row is over the limit of {limit:,} bytes; raise --max-row-bytes"
        )
    if not raw.strip():
        return None, None
    try:
        text = decode_utf8(raw, first=no == 1)  # a BOM at the start of the file is fine
    except UnicodeDecodeError as e:
        return None, _error(
            no, f"not valid UTF-8 (byte {e.start} of the line); re-encode the file as UTF-8"
        )
    try:
        row = json.loads(text)
    except ValueError as e:
        return None, _error(no, f"not valid JSON ({e}); one JSON object per line")
    if not isinstance(row, dict):
        return None, _error(no, f"expected a JSON object, got {type(row).__name__}")
    return clean_obj(row), None


def _gold(row: dict[str, Any], task: Any, cfg: GradeConfig) -> Any:
    """The row's gold answer, or the final answer its reference solution states."""
    from metamath.answers import gold_from_solution

    gold = row.get(cfg.gold_field)
    if gold is None and task in GRADERS and isinstance(row.get(cfg.solution_field), str):
        gold = gold_from_solution(row[cfg.solution_field], task)
    return gold


def _missing(row: dict, completion: Any, task: Any, gold: Any, cfg: GradeConfig) -> str:
    """What the row lacks to be graded, with the fix ("" when nothing)."""
    if not isinstance(completion, str):
        return (
            f"field '{cfg.completion_field}' is missing or not a string "
            f"(row has: {', '.join(sorted(row))}); pass --completion-field"
        )
    if task not in GRADERS:
        return (
            f"field 'task' is {task!r}, not one of {', '.join(GRADERS)}; pass --task to grade "
            "every row with one grader"
        )
    if gold is None or not str(gold).strip():
        return (
            f"no gold answer: field '{cfg.gold_field}' is missing and field "
            f"'{cfg.solution_field}' has no final answer; pass --gold-field"
        )
    return ""


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


Graded = list[tuple[int, dict[str, Any], dict[str, Any] | None]]  # (line, row, audit or None)


def _grade_chunk(
    args: tuple[list[tuple[int, bytes | None, int]], GradeConfig],
) -> tuple[Graded, int]:
    """One chunk of lines -> ((line number, graded row, its audit or None) per row, bytes
    consumed)."""
    chunk, cfg = args
    graded: Graded = []
    for no, raw, _ in chunk:
        r = grade_line(no, raw, cfg)
        if r is not None:
            graded.append((no, r, r.pop("_audit", None)))
    return graded, sum(size for _, _, size in chunk)


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


class _Tally:
    """The counts the summary reports, row by row."""

    def __init__(self) -> None:
        self.n = self.correct = self.correct_strict = 0
        self.reasons: Counter[str] = Counter()
        self.audit: Counter[str] = Counter()

    def add(self, row: dict[str, Any], a: dict[str, Any] | None) -> None:
        self.n += 1
        self.correct += bool(row["correct"])
        self.correct_strict += bool(row["correct_strict"])
        self.reasons[row["reason"]] += 1
        if a is not None:
            self.audit["rows"] += 1
            self.audit["math_verify_correct"] += a["math_verify_correct"]
            if not a["agree"]:
                side = "ours_only" if a["ours_correct"] else "math_verify_only"
                self.audit[side] += 1

    def audit_summary(self, path: Path) -> dict[str, Any]:
        rows, c = self.audit["rows"], self.audit
        differ = c["ours_only"] + c["math_verify_only"]
        return {
            "rows": rows,
            "disagree": differ,
            "ours_only_correct": c["ours_only"],
            "math_verify_only_correct": c["math_verify_only"],
            "math_verify_accuracy": c["math_verify_correct"] / rows if rows else 0.0,
            "agreement": 1 - differ / rows if rows else 1.0,
            "path": str(path),
        }


def _audit_row(no: int, row: dict[str, Any], a: dict[str, Any], cfg: GradeConfig) -> dict:
    """The audit file's row: where in the input, the gold, both verdicts, the completion."""
    keep = {k: row[k] for k in ("id", "task") if k in row}
    return {
        "line": no,
        **keep,
        "gold": row["gold"],
        **a,
        "completion": row.get(cfg.completion_field),
    }


def grade_file(cfg: GradeConfig, progress: bool = True) -> dict[str, Any]:
    """Grade cfg.input into cfg.out (and the audit file); returns the summary: n, correct,
    accuracy, accuracy_strict, reasons, errors, ... An input without any row is an error."""
    import sys

    from tqdm import tqdm

    from metamath.io import JsonlWriter

    cfg.check()
    path, audit_path = Path(cfg.input), cfg.audit_path()
    size = path.stat().st_size
    workers = cfg.workers or ((os.cpu_count() or 1) if size > PARALLEL_BYTES else 1)
    tally = _Tally()
    start = time.monotonic()
    out = JsonlWriter(cfg.out, mode="w") if cfg.out else None
    audit_out = JsonlWriter(audit_path, mode="w") if audit_path else None
    bar = tqdm(
        total=size, unit="B", unit_scale=True, desc="grade", disable=not progress, file=sys.stderr
    )
    try:
        for graded, nbytes in _graded(path, cfg, workers):
            for no, row, a in graded:
                tally.add(row, a)
                if out:
                    out.write(row)
                if audit_out and a is not None and not a["agree"]:
                    audit_out.write(_audit_row(no, row, a, cfg))
            bar.update(nbytes)
    finally:
        bar.close()
        for w in (out, audit_out):
            if w:
                w.close()
    if tally.n == 0:
        raise ValueError(
            f"{path}: no rows to grade (the file is empty or blank); expected one JSON object "
            "per line with `completion` and `gold` or `solution`"
        )
    return _summary(cfg, tally, workers, time.monotonic() - start, audit_path)


def _graded(path: Path, cfg: GradeConfig, workers: int) -> Iterator[tuple[Graded, int]]:
    """Graded chunks in input order, from `workers` processes (1: this one)."""
    tasks = ((c, cfg) for c in _chunks(path, cfg.max_row_bytes))
    if workers <= 1:
        yield from map(_grade_chunk, tasks)
        return
    import multiprocessing as mp

    # spawn: no inherited locks or worker pipes; imap keeps the input order
    pool = mp.get_context("spawn").Pool(workers)
    try:
        yield from pool.imap(_grade_chunk, tasks)
    finally:
        pool.close()
        pool.join()


def _summary(cfg, tally: _Tally, workers: int, elapsed: float, audit_path) -> dict[str, Any]:  # noqa: ANN001
    n = tally.n
    summary = {
        "n": n,
        "correct": tally.correct,
        "accuracy": tally.correct / n if n else 0.0,
        "correct_strict": tally.correct_strict,
        "accuracy_strict": tally.correct_strict / n if n else 0.0,
        "reasons": dict(sorted(tally.reasons.items())),
        "task": cfg.task,
        "mode": cfg.grade_mode,
        "errors": tally.reasons.get("error", 0),
        "workers": workers,
        "seconds": round(elapsed, 3),
        "rows_per_s": round(n / elapsed, 1) if elapsed else None,
        "input": str(Path(cfg.input)),
        "output": cfg.out,
    }
    if audit_path:
        summary["audit"] = tally.audit_summary(audit_path)
    return summary
