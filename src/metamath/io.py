"""JSONL and JSON I/O: streaming reads with errors that name file, line and field; append-only
writers that survive a crash (a torn last line is detected and cut on resume); atomic whole-file
writes.

    rows = read_jsonl("x.jsonl")                  # iterator of (line_no, dict)
    with JsonlWriter("out.jsonl") as w: w.write({"id": ...})
    done = done_ids("out.jsonl")                  # ids already written, for resume
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


class DataError(ValueError):
    """Bad input data. The message names the file, the line and the field, and says what to fix."""

    def __init__(
        self, path: str | os.PathLike, line: int | None, message: str, field: str | None = None
    ):
        where = f"{path}" + (f":{line}" if line is not None else "")
        what = f" field '{field}'" if field else ""
        super().__init__(f"{where}:{what} {message}")
        self.path, self.line, self.field = str(path), line, field


def read_jsonl(
    path: str | os.PathLike, *, skip_bad: bool = False, bad: list[DataError] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line.

    A line that is not valid UTF-8 or not a JSON object raises DataError naming the file and line,
    unless skip_bad is set: then the error is appended to `bad` (the caller reports the count).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    with open(path, "rb") as f:
        for no, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.decode("utf-8"))
                if not isinstance(obj, dict):
                    raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
            except (UnicodeDecodeError, ValueError) as e:
                err = DataError(
                    path, no, f"malformed JSONL line ({e.__class__.__name__}: {str(e)[:200]})"
                )
                if not skip_bad:
                    raise err from None
                if bad is not None:
                    bad.append(err)
                continue
            yield no, obj


def read_records(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Read JSONL, a JSON array (or {"data": [...]}), or Parquet, as (row number, dict)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError as e:  # pragma: no cover - depends on the install
            raise ImportError("reading Parquet needs pyarrow: pip install 'metamath[train]'") from e
        table = pq.read_table(path)
        for i, row in enumerate(table.to_pylist(), 1):
            yield i, row
        return
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise DataError(path, None, f"not valid JSON ({e})") from None
        if isinstance(data, dict):
            data = next((v for v in data.values() if isinstance(v, list)), None)
        if not isinstance(data, list):
            raise DataError(path, None, "expected a JSON array of objects")
        for i, row in enumerate(data, 1):
            if not isinstance(row, dict):
                raise DataError(path, i, f"item {i} is not a JSON object")
            yield i, row
        return
    yield from read_jsonl(path)


def repair_jsonl(path: str | os.PathLike) -> int:
    """Cut a torn final line (a crash mid-write) so appends continue cleanly.

    Returns the number of bytes removed. Only the last line can be torn: an append-only writer
    writes whole lines, so a bad line elsewhere is real corruption and is left for read_jsonl
    to report.
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with open(path, "rb+") as f:
        data = f.read()
        if data.endswith(b"\n"):
            return 0
        cut = data.rfind(b"\n") + 1
        f.truncate(cut)
        return len(data) - cut


def done_ids(path: str | os.PathLike, key: str = "id") -> set[str]:
    """Ids already written to an append-only JSONL file (after repairing a torn last line)."""
    path = Path(path)
    if not path.exists():
        return set()
    repair_jsonl(path)
    return {str(obj[key]) for _, obj in read_jsonl(path) if key in obj}


class JsonlWriter:
    """Append JSON objects one per line; each line is flushed so a crash loses at most the line
    being written (repair_jsonl cuts it on resume)."""

    def __init__(self, path: str | os.PathLike, mode: str = "a", fsync_every: int = 0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if mode == "a":
            repair_jsonl(self.path)
        self._f = open(self.path, mode, encoding="utf-8")
        self._fsync_every, self._n = fsync_every, 0

    def write(self, obj: dict[str, Any]) -> None:
        self._f.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self._f.flush()
        self._n += 1
        if self._fsync_every and self._n % self._fsync_every == 0:
            os.fsync(self._f.fileno())

    def write_many(self, objs: Iterable[dict[str, Any]]) -> None:
        for o in objs:
            self.write(o)

    def close(self) -> None:
        if not self._f.closed:
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def _atomic(path: str | os.PathLike) -> Iterator[Any]:
    """A text file handle whose content replaces `path` only once it is complete (temp file in
    the same directory, fsync, rename); on error the old file is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write a whole file atomically (temp file in the same directory, then rename)."""
    with _atomic(path) as f:
        f.write(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict[str, Any]]) -> int:
    """Write a whole JSONL file atomically; returns the row count."""
    n = 0
    with _atomic(path) as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
    return n
