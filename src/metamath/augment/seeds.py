"""Seed questions from any loader (GSM8K, MATH, a user's JSONL/JSON/Parquet), gold normalised.

seeds, info = load_seeds(cfg.seeds, shard="0/1")     # list[Seed], loader stats per set
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from metamath.augment.backward import normalise_number
from metamath.augment.config import SeedConfig, parse_shard
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
    gold: str  # normalised

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


def load_seed_set(sc: SeedConfig) -> tuple[list[Seed], int]:
    """(seeds, rows skipped by the loader) for one seed config."""
    from metamath import data

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
        )
    else:
        ps = data.load(sc.name, sc.split, skip_bad=True, how_to_pass=FILE_HINT)
    kind = _kind(sc)
    rows = list(ps)[: sc.limit] if sc.limit else list(ps)
    return [Seed(p, kind, normalise_gold(p.gold, kind)) for p in rows], len(ps.skipped)


def in_shard(seed_id: str, shard: str) -> bool:
    """Stable shard membership by a hash of the id (independent of file order)."""
    i, n = parse_shard(shard)
    if n == 1:
        return True
    h = int.from_bytes(hashlib.blake2b(seed_id.encode(), digest_size=8).digest(), "big")
    return h % n == i


def load_seeds(
    configs: list[SeedConfig], shard: str = "0/1", everything: list[Seed] | None = None
) -> tuple[list[Seed], dict]:
    """The seeds of all seed sets that fall in this shard, and loader stats per set.
    `everything`, when given, receives every seed of every shard (the exemplar pool)."""
    out: list[Seed] = []
    info = {}
    for sc in configs:
        seeds, skipped = load_seed_set(sc)
        mine = [s for s in seeds if in_shard(s.id, shard)]
        info[sc.name] = {"loaded": len(seeds), "in_shard": len(mine), "skipped_rows": skipped}
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
