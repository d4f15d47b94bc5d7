"""Seed questions from any loader (GSM8K, MATH, a user's JSONL/JSON/Parquet), gold normalised.

seeds, info = load_seeds(cfg.seeds, shard="0/1")     # list[Seed], loader stats per set

A seed set with gold: vote has its answers hidden (a named set: its gold and reference solution
are dropped at load time, so neither reaches a prompt) or has none (a file without the answer
field); gold: auto votes only the rows without a usable answer. Such seeds come out with
gold "" and gold_source "vote"; augment/vote.py fills the gold in from the teacher's agreement.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from metamath.augment.backward import normalise_number
from metamath.augment.config import SeedConfig, parse_shard
from metamath.io import DataError
from metamath.records import Problem

_NUMERIC = re.compile(r"-?\d+(?:\.\d+)?")
# How `metamath augment` takes a file instead of a named dataset (for the not-found message).
FILE_HINT = (
    'seed from your own file: "seeds=[{name: mine, path: my.jsonl, question_field: question, '
    'answer_field: answer, answer_format: gsm8k}]" (answer_format: gsm8k, boxed or plain)'
)


@dataclass(frozen=True)
class Seed:
    problem: Problem
    kind: str  # "gsm8k" (numeric answers) or "math" (LaTeX answers)
    gold: str  # normalised; "" until voted for a seed without an answer
    gold_source: str = "given"  # given (the seed set's answer) | vote (the teacher's agreement)

    @property
    def id(self) -> str:
        return self.problem.id

    @property
    def question(self) -> str:
        return self.problem.question


def normalise_gold(gold: str, kind: str) -> str:
    """GSM8K: "1,000.0" -> "1000" (the original's delete_extra_zero, reference 1.1). MATH:
    outer whitespace and a "$...$" wrapper off; the LaTeX itself is kept (equivalence is the
    grader's job, and the answer line shows it as written)."""
    g = gold.strip()
    if kind == "gsm8k":
        plain = g.replace(",", "")
        return normalise_number(plain) if _NUMERIC.fullmatch(plain) else g
    if len(g) > 1 and g.startswith("$") and g.endswith("$"):
        g = g.strip("$").strip()
    return g


def _kind(sc: SeedConfig) -> str:
    kind = sc.kind or ("math" if sc.name in ("math", "math500") else "gsm8k")
    if kind not in ("gsm8k", "math"):
        raise ValueError(f"seeds.kind={kind!r}: use gsm8k (numeric answers) or math (LaTeX)")
    return kind


def load_seed_set(
    sc: SeedConfig, max_row_bytes: int | None = None, max_question_chars: int | None = None
) -> tuple[list[Seed], list[DataError]]:
    """(seeds, rows rejected by the loader with file, line and reason) for one seed config.
    A set with no usable row is an error: an empty or unreadable file is not a dataset."""
    from metamath import data

    limits = {"max_row_bytes": max_row_bytes, "max_question_chars": max_question_chars}
    if sc.path:
        ps = data.load_file(
            sc.path,
            question=sc.question_field,
            answer=sc.answer_field,
            answer_format=sc.answer_format,
            id_field=sc.id_field,
            solution=sc.solution_field,
            source=sc.name,
            skip_bad=True,
            **limits,
        )
    else:
        ps = data.load(sc.name, sc.split, skip_bad=True, how_to_pass=FILE_HINT, **limits)
    kind = _kind(sc)
    skipped = list(ps.skipped)
    if sc.gold == "vote" and not sc.path:  # a named set with its answers hidden
        probs = [dataclasses.replace(p, gold="", solution=None) for p in ps]
    elif sc.gold != "given" and sc.path:
        probs, skipped = _without_answers(sc, list(ps), skipped)
    else:
        probs = list(ps)
    rows = probs[: sc.limit] if sc.limit else probs
    if not rows:
        where = sc.path or f"{sc.name}:{sc.split}"
        why = (
            f"all {len(skipped)} rows were rejected (first: {skipped[0]})"
            if skipped
            else "it has no rows"
        )
        raise DataError(where, None, f"no usable seed question: {why}")
    return [_seed(p, kind) for p in rows], skipped


def _seed(p: Problem, kind: str) -> Seed:
    if not p.gold:
        return Seed(p, kind, "", "vote")
    return Seed(p, kind, normalise_gold(p.gold, kind))


def _without_answers(
    sc: SeedConfig, given: list[Problem], skipped: list
) -> tuple[list[Problem], list]:
    """A user's file under gold vote/auto. auto: the loader's problems, plus the rows it refused
    only for their answer field. vote: every row with a question, its answer (if any) ignored.
    Rows bad for another reason (no question text, a torn line) stay skipped, with the reason."""
    from metamath.io import read_jsonl, read_records

    no_answer = {e.line for e in skipped if e.field == sc.answer_field}
    out = list(given) if sc.gold == "auto" else []
    left = [e for e in skipped if e.field != sc.answer_field]
    path = Path(sc.path)
    rows = (
        read_jsonl(path, skip_bad=True)
        if path.suffix.lower() not in (".json", ".parquet")
        else read_records(path)
    )
    for no, row in rows:
        if sc.gold == "auto" and no not in no_answer:
            continue
        q = row.get(sc.question_field)
        if not isinstance(q, str) or not q.strip():
            continue  # the loader already counted it among the skipped rows
        pid = (
            str(row[sc.id_field])
            if sc.id_field and row.get(sc.id_field) is not None
            else f"{sc.name}/{no}"
        )
        out.append(Problem(id=pid, question=q.strip(), gold="", source=sc.name))
    return out, left


def in_shard(seed_id: str, shard: str) -> bool:
    """Stable shard membership by a hash of the id (independent of file order)."""
    i, n = parse_shard(shard)
    if n == 1:
        return True
    h = int.from_bytes(hashlib.blake2b(seed_id.encode(), digest_size=8).digest(), "big")
    return h % n == i


def load_seeds(
    configs: list[SeedConfig],
    shard: str = "0/1",
    everything: list[Seed] | None = None,
    rejected: list[dict] | None = None,
    **limits: int | None,
) -> tuple[list[Seed], dict]:
    """The seeds of all seed sets that fall in this shard, and loader stats per set.
    `everything`, when given, receives every seed of every shard (the exemplar pool);
    `rejected` a row per seed row the loader refused (file, line, reason); `limits` are
    load_seed_set's max_row_bytes and max_question_chars."""
    out: list[Seed] = []
    info = {}
    for sc in configs:
        seeds, skipped = load_seed_set(sc, **limits)
        mine = [s for s in seeds if in_shard(s.id, shard)]
        info[sc.name] = {"loaded": len(seeds), "in_shard": len(mine), "skipped_rows": len(skipped)}
        if rejected is not None:
            rejected.extend(
                {
                    "id": f"{sc.name}/line{e.line}",
                    "stage": "seeds",
                    "reason": "bad_seed_row",
                    "seed_set": sc.name,
                    "file": e.path,
                    "line": e.line,
                    "field": e.field,
                    "error": str(e),
                }
                for e in skipped
            )
        out.extend(mine)
        if everything is not None:
            everything.extend(seeds)
    ids = [s.id for s in out]
    if len(set(ids)) != len(ids):
        raise ValueError(
            "seeds: two seed sets produce the same question ids; give each file "
            "its own seeds[].name (ids are <name>/<line>) or an id_field"
        )
    return out, info
