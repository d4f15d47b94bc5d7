"""What assembly holds in memory: the correct candidates as flat columns, and their drop codes.

    with CandidateFiles(paths) as files:       # work/candidates.jsonl of each work dir
        for fi, off, c in files.scan(): ...    # every records.Candidate, with its position
        c = files.at(loc)                      # one read back by packed position
    t = Table(); t.add(c, qkey, loc, ekey, salt, item); t.drop(i, DUPLICATE, kept_row)

A packed position is file index << 48 | byte offset: pass 2 of assembly (and the budget rounds)
read a row back by seeking, so no text is held between the passes.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from metamath.augment.generate import sample_index
from metamath.records import Candidate

# Why the assembly reason codes: one byte per row instead of a dict entry per dropped row.
KEEP, DUPLICATE, CONTAMINATED, NEAR_DUPLICATE, SEED_CAP, OVER_TARGET, OVER_BUDGET = range(7)
REASON = {  # the reason each code stands for in rejected.jsonl and stats.json
    DUPLICATE: "duplicate",
    CONTAMINATED: "contaminated",
    NEAR_DUPLICATE: "near_duplicate",
    SEED_CAP: "seed_cap",
    OVER_TARGET: "over_target",
    OVER_BUDGET: "over_budget",
}
_OFFSET = (1 << 48) - 1


def h64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class CandidateFiles:
    """The candidate files of a run (several for a merge), read in order or by position."""

    def __init__(self, paths: list[Path]):
        self.paths = paths
        self._handles: dict[int, IO[bytes]] = {}

    def scan(self) -> Iterator[tuple[int, Candidate]]:
        """(packed position, candidate) of every row of every file, in file order."""
        for fi, path in enumerate(self.paths):
            with open(path, "rb") as f:
                off = 0
                for raw in f:
                    if raw.strip():
                        yield fi << 48 | off, Candidate.from_dict(json.loads(raw))
                    off += len(raw)

    def at(self, loc: int) -> Candidate:
        """The candidate at a packed position."""
        fi = loc >> 48
        f = self._handles.get(fi)
        if f is None:
            f = self._handles[fi] = open(self.paths[fi], "rb")
        f.seek(loc & _OFFSET)
        return Candidate.from_dict(json.loads(f.readline()))

    def close(self) -> None:
        for f in self._handles.values():
            f.close()
        self._handles.clear()

    def __enter__(self) -> CandidateFiles:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Table:
    """The correct rows of pass 1, column by column, in flat arrays (about 60 bytes a row and
    no Python object per row, so memory stays nearly flat as rows grow): hashes of the id and
    query group, the priority, the packed file position, the exact-duplicate key, small
    integer codes for seed and type, and a one-byte drop code. Text and ids are read
    back from the candidate file by position when a row is written."""

    def __init__(self) -> None:
        self.idh, self.gkey, self.prio, self.loc, self.ekey = (array("Q") for _ in range(5))
        self.seed, self.item, self.sidx = array("I"), array("I"), array("I")
        self.type = bytearray()
        self.seed_names: list[str] = []
        self.type_names: list[str] = []
        self._codes: dict[str, int] = {}
        self.code = bytearray()
        self.detail: dict[int, int | str] = {}  # row -> kept duplicate's row / test problem id
        self.qkey_of: dict[int, int] = {}  # contaminated row -> its query hash

    def __len__(self) -> int:
        return len(self.idh)

    def add(self, c: Candidate, qkey: int, loc: int, ekey: int, salt: int, item: int) -> None:
        self.idh.append(h64(c.id))
        self.item.append(item)
        self.sidx.append(sample_index(c.id))
        self.prio.append(h64(f"{salt}/{c.id}"))
        self.type.append(self._type_code(c.type))
        self.seed.append(self._seed_code(c.seed_id))
        # near-duplicate group: same seed, type and query, folded into one 64-bit key
        self.gkey.append(
            (qkey ^ (self.seed[-1] << 8 | self.type[-1]) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        )
        self.loc.append(loc)
        self.ekey.append(ekey)
        self.code.append(KEEP)

    def _type_code(self, type_: str) -> int:
        if type_ not in self.type_names:
            self.type_names.append(type_)
        return self.type_names.index(type_)

    def _seed_code(self, seed: str) -> int:
        c = self._codes.get(seed)
        if c is None:
            c = self._codes[seed] = len(self.seed_names)
            self.seed_names.append(seed)
        return c

    def type_of(self, i: int) -> str:
        return self.type_names[self.type[i]]

    def live(self) -> Iterator[int]:
        """The rows not dropped (yet)."""
        return (i for i in range(len(self)) if self.code[i] == KEEP)

    def drop(self, i: int, code: int, detail: int | str | None = None) -> None:
        if self.code[i] == KEEP:
            self.code[i] = code
            if detail is not None:
                self.detail[i] = detail

    def reason(self, i: int) -> str | None:
        """Why row i was dropped (None: kept)."""
        return REASON.get(self.code[i])


def runs(keys: array) -> Iterator[list[int]]:
    """Row indices grouped by equal key (sorting a list of ints: no per-row key objects)."""
    run: list[int] = []
    for i in sorted(range(len(keys)), key=keys.__getitem__):
        if run and keys[i] != keys[run[0]]:
            if len(run) > 1:
                yield run
            run = []
        run.append(i)
    if len(run) > 1:
        yield run
