"""The files assembly writes row by row: metamathqa.jsonl and rejected.jsonl.

    examples, rows_by_gold_source = write_dataset(path, files, t, chosen, per_type)
    firsts = write_rejected(path, work_dirs, sample_rejections(files, t, bad, dropped, contam),
                            votes, limit)

Rows are read back from the candidate files by packed position (table.CandidateFiles); both
files are written to a temp file and renamed (io.JsonlWriter, atomic), so a crash never leaves
half a dataset.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from metamath.augment.config import FILES
from metamath.augment.decontaminate import Contamination
from metamath.augment.filter import format_response
from metamath.augment.table import CandidateFiles, Table
from metamath.io import JsonlWriter, read_jsonl
from metamath.records import Candidate, Example, field_names


def kept_example(c: Candidate) -> Example:
    """The MetaMathQA row of a kept candidate: its answer line written the MetaMathQA way, every
    other field of Example is the candidate's own."""
    same = {k: getattr(c, k) for k in field_names(Example) if k != "response"}
    return Example(response=format_response(c.response, c.target, c.kind), **same)


def write_dataset(
    path: Path, files: CandidateFiles, t: Table, chosen: list[int], per_type: int
) -> tuple[dict[str, list[Example]], Counter]:
    """metamathqa.jsonl: the chosen rows, in order. Returns the first `per_type` examples of
    each type (for the data card) and the rows per gold source."""
    examples: dict[str, list[Example]] = defaultdict(list)
    by_source: Counter = Counter()
    with JsonlWriter(path, "w", atomic=True) as out:
        for i in chosen:
            ex = kept_example(files.at(t.loc[i]))
            by_source[ex.gold_source] += 1
            out.write(ex.to_dict())
            if len(examples[ex.type]) < per_type:
                examples[ex.type].append(ex)
    return examples, by_source


def write_rejected(
    path: Path, work_dirs: list[Path], samples: Iterable[dict], votes: dict, limit: int
) -> list[dict]:
    """rejected.jsonl: the seed rows that could not be read, then the rejected samples (the
    grader's, then assembly's drops), stage-1 rejections, questions without an agreed answer,
    and requests that failed. Returns the first of each (technique, reason) for the card (at
    most `limit`; seed rows are not among them)."""
    firsts: dict[tuple[str, str], dict] = {}
    with JsonlWriter(path, "w", atomic=True) as out:
        for w in work_dirs:
            if (w / FILES["seed_rejects"]).exists():
                out.write_rows(r for _, r in read_jsonl(w / FILES["seed_rejects"]))
        for row in itertools.chain(
            samples,
            _stage1_rejections(work_dirs),
            _vote_rejections(votes),
            (r for w in work_dirs for r in failed_requests(w)),
        ):
            out.write(row)
            key = (row.get("technique", ""), row["reason"])
            if key not in firsts and len(firsts) < limit:
                firsts[key] = row
    return list(firsts.values())


def sample_rejections(
    files: CandidateFiles, t: Table, bad: list[int], dropped: list[int], contam: Contamination
) -> Iterator[dict]:
    """A row per sample not kept: the grader's rejections (positions in `bad`), then the rows
    assembly dropped (table rows in `dropped`), each with its reason and detail."""
    for loc, i in itertools.chain(((loc, None) for loc in bad), ((t.loc[i], i) for i in dropped)):
        c = files.at(loc)
        reason, detail = (c.reason, None) if i is None else (t.reason(i), t.detail.get(i))
        if isinstance(detail, int):  # a duplicate: name the row that was kept
            detail = files.at(t.loc[detail]).id
        row = {
            "id": c.id,
            "stage": "solve" if i is None else "assemble",
            "technique": c.technique,
            "type": c.type,
            "reason": reason,
            "detail": detail,
            "seed_id": c.seed_id,
            "query": c.query,
            "response": c.response,
            "extracted": c.extracted,
            "target": c.target,
            **({"error": c.error} if c.error else {}),
        }
        if i is not None and i in t.qkey_of:  # which rule, how similar
            _, row["rule"], row["similarity"] = contam.seen[t.qkey_of[i]]
        yield row


def _stage1_rejections(work_dirs: list[Path]) -> Iterator[dict]:
    """The masks, rephrasings and SV statements that failed their checks, in id order."""
    for w in work_dirs:
        for name in ("masks", "rephrase", "sv_rewrite"):
            if not (w / FILES[name]).exists():
                continue
            rows = (s for _, s in read_jsonl(w / FILES[name]) if s.get("reason") is not None)
            for s in sorted(rows, key=lambda s: s["id"]):
                keys = ("id", "stage", "technique", "reason", "seed_id", "text", "raw")
                yield {
                    **{k: s[k] for k in keys},
                    **({"error": s["error"]} if s.get("error") else {}),
                }


def _vote_rejections(votes: dict) -> Iterator[dict]:
    for v in votes.get("rejections", ()):
        yield {
            "id": f"{v['seed_id']}/vote",
            "stage": "vote",
            "technique": "vote",
            "reason": v["reason"],
            "detail": {k: v[k] for k in ("samples", "answered", "groups")},
            "seed_id": v["seed_id"],
            "query": v["query"],
        }


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
