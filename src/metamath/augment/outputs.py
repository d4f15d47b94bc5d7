"""The files assembly writes row by row: metamathqa.jsonl and rejected.jsonl.

    examples, rows_by_gold_source = write_outputs(files, work_dirs, t, chosen, bad, dropped, ...)

Rows are read back from the candidate files by packed position (file index << 48 | offset);
both files are written to a temp name and renamed, so a crash never leaves half a dataset.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from metamath.augment.config import AugmentConfig
from metamath.augment.filter import format_response
from metamath.augment.generate import FILES
from metamath.io import read_jsonl

SEED_REJECTS = "seeds_rejected.jsonl"  # in work/: seed rows the loader refused, with reasons


class _Out:
    """A buffered JSONL writer for whole-file outputs: they are written to a temp file and
    renamed, so per-line flushes (io.JsonlWriter's crash safety) would only cost time."""

    def __init__(self, path: Path):
        self._f = open(path, "w", encoding="utf-8")

    def write(self, obj: dict) -> None:
        self._f.write(json.dumps(obj, ensure_ascii=False) + "\n")

    def __enter__(self) -> _Out:
        return self

    def __exit__(self, *exc) -> None:
        self._f.close()


def read_at(files: list[Path], handles: dict, loc: int) -> dict:
    """The row at a packed position (file index << 48 | byte offset)."""
    file, offset = loc >> 48, loc & ((1 << 48) - 1)
    f = handles.get(file)
    if f is None:
        f = handles[file] = open(files[file], "rb")
    f.seek(offset)
    return json.loads(f.readline())


def write_outputs(
    files: list[Path],
    work_dirs: list[Path],
    t: Any,  # assemble.Table
    chosen: list[int],
    bad: list[int],
    dropped: list[int],
    run_dir: Path,
    cfg: AugmentConfig,
    contam: Any,
    votes: dict,
    reason_names: dict[int, str],
) -> tuple[dict[str, list[dict]], Counter, list[dict]]:
    """metamathqa.jsonl (chosen rows, in order) and rejected.jsonl (seed rows that could not be
    read, then the grader's rejections, assembly's drops, stage-1 rejections, questions without
    an agreed answer, and requests that failed); kept examples per type for the card, the rows
    per gold source, and rejected examples for the card (the first of each technique and
    reason)."""
    examples: dict[str, list[dict]] = defaultdict(list)
    rejected: dict[tuple[str, str], dict] = {}

    def reject(row: dict) -> None:
        rej.write(row)
        key = (row.get("technique", ""), row["reason"])
        if key not in rejected and len(rejected) < cfg.examples_in_card * 8:
            rejected[key] = row

    by_source: Counter = Counter()
    handles: dict[int, Any] = {}
    tmp = run_dir / "metamathqa.jsonl.tmp"
    try:
        with _Out(tmp) as out:
            for i in chosen:
                c = read_at(files, handles, t.loc[i])
                row = {
                    "query": c["query"],
                    "response": format_response(c["response"], c["target"], c["kind"]),
                    "type": c["type"],
                    "original_question": c["original_question"],
                    "id": c["id"],
                    "seed_id": c["seed_id"],
                    "technique": c["technique"],
                    "target": c["target"],
                    "prompt_version": c.get("prompt_version"),
                    "gold_source": c.get("gold_source", "given"),
                }
                by_source[row["gold_source"]] += 1
                out.write(row)
                if len(examples[c["type"]]) < cfg.examples_in_card:
                    examples[c["type"]].append(row)
        tmp.replace(run_dir / "metamathqa.jsonl")
        with _Out(run_dir / "rejected.jsonl.tmp") as rej:
            for w in work_dirs:
                if (w / SEED_REJECTS).exists():
                    for _, r in read_jsonl(w / SEED_REJECTS):
                        rej.write(r)
            for loc, i in itertools.chain(
                ((loc, None) for loc in bad), ((t.loc[i], i) for i in dropped)
            ):
                c = read_at(files, handles, loc)
                reason, detail = (
                    (c["reason"], None) if i is None else (reason_names[t.code[i]], t.detail.get(i))
                )
                if isinstance(detail, int):  # a duplicate: name the row that was kept
                    detail = read_at(files, handles, t.loc[detail])["id"]
                row = {
                    "id": c["id"],
                    "stage": "solve" if i is None else "assemble",
                    "technique": c["technique"],
                    "type": c["type"],
                    "reason": reason,
                    "detail": detail,
                    "seed_id": c["seed_id"],
                    "query": c["query"],
                    "response": c["response"],
                    "extracted": c.get("extracted"),
                    "target": c["target"],
                    **({"error": c["error"]} if c.get("error") else {}),
                }
                if i is not None and i in t.qkey_of:  # which rule, how similar
                    _, row["rule"], row["similarity"] = contam.seen[t.qkey_of[i]]
                reject(row)
            for w in work_dirs:
                for name in (FILES["masks"], FILES["rephrase"], FILES["sv_rewrite"]):
                    if (w / name).exists():
                        st1 = sorted(
                            (s for _, s in read_jsonl(w / name) if s.get("reason") is not None),
                            key=lambda s: s["id"],
                        )
                        for s in st1:
                            reject(
                                {
                                    "id": s["id"],
                                    "stage": s["stage"],
                                    "technique": s["technique"],
                                    "reason": s["reason"],
                                    "seed_id": s["seed_id"],
                                    "text": s["text"],
                                    "raw": s["raw"],
                                    **({"error": s["error"]} if s.get("error") else {}),
                                }
                            )
            for v in votes.get("rejections", ()):
                reject(
                    {
                        "id": f"{v['seed_id']}/vote",
                        "stage": "vote",
                        "technique": "vote",
                        "reason": v["reason"],
                        "detail": {k: v[k] for k in ("samples", "answered", "groups")},
                        "seed_id": v["seed_id"],
                        "query": v["query"],
                    }
                )
            for w in work_dirs:
                for r in failed_requests(w):
                    reject(r)
    finally:
        for f in handles.values():
            f.close()
    (run_dir / "rejected.jsonl.tmp").replace(run_dir / "rejected.jsonl")
    return examples, by_source, list(rejected.values())


def failed_requests(work: Path) -> list[dict]:
    """Requests whose last attempt (requests.jsonl is appended by every run) failed: their
    samples are lost until a re-run retries them. One rejection row each, with the error."""
    log = work / FILES["requests"]
    if not log.exists():
        return []
    last: dict[str, dict] = {}
    for _, r in read_jsonl(log):
        last[r["id"]] = r
    return [
        {
            "id": r["id"],
            "stage": "request",
            "technique": r["technique"],
            "reason": "request_failed",
            "error": r["error"],
            "samples_lost": r["n"] - r["samples"],
        }
        for r in last.values()
        if r.get("error")
    ]
