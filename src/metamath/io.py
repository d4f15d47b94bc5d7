"""JSONL and JSON I/O: streaming reads with errors that name file, line and field; append-only
writers that survive a crash (a torn last line is detected and cut on resume); atomic whole-file
writes.

    rows = read_jsonl("x.jsonl")                  # iterator of (line_no, dict)
    with JsonlWriter("out.jsonl") as w: w.write({"id": ...})   # the one JSONL writer
    done = done_ids("out.jsonl")                  # ids already written, for resume

Reading is a boundary (metamath.text): a UTF-8 BOM at the start of a file is accepted, a row
must be valid UTF-8 JSON, every string in it is cleaned (clean_obj), and a line longer than
`max_bytes` (MAX_ROW_BYTES, for a user's files) is refused without being held in memory
whole (readers of a user's files pass it; the package's own files are read unbounded).
Written files follow the user's umask (mkstemp, and safetensors' writer, create them owner-only:
see file_mode), and whole-file writes (configs, stats, reports) are redacted of credentials.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from metamath.text import clean_obj, decode_utf8


def nearby(p: str | os.PathLike) -> str:
    """ " (did you mean runs/tiny?)" for a missing path: names close to it in its deepest
    existing parent folder (the first 10,000 entries), or "" when none is close."""
    p = Path(p).expanduser()
    parent = p.parent
    while not parent.is_dir() and parent != parent.parent:
        parent = parent.parent
    try:
        names = sorted(x.name for x in islice(parent.iterdir(), 10_000))
    except OSError:
        return ""
    want = p.relative_to(parent).parts[0] if p.is_relative_to(parent) else p.name
    close = difflib.get_close_matches(want, names, n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(str(parent / c) for c in close)}?)" if close else ""


# The largest row (JSONL line) read by default: 1 MiB, about 100 times the longest GSM8K, MATH
# or MetaMathQA row. Each stage can raise it (max_row_bytes / data.max_row_bytes).
MAX_ROW_BYTES = 1 << 20
_SKIP_CHUNK = 1 << 20


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
    path: str | os.PathLike,
    *,
    skip_bad: bool = False,
    bad: list[DataError] | None = None,
    max_bytes: int | None = None,
    limit_name: str = "max_row_bytes",
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each non-blank line, its strings cleaned.

    A line that is not valid UTF-8, not a JSON object, or longer than `max_bytes` (None: no
    limit; `limit_name` is the setting named in the message) raises DataError naming the file
    and line, unless skip_bad is set: then the error is appended to `bad` (the caller records
    and counts it).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    with open(path, "rb") as f:
        for no, raw, size in bounded_lines(f, max_bytes):
            try:
                if raw is None:
                    raise _TooLarge(
                        f"row too large: {size:,} bytes, over the limit of {max_bytes:,} "
                        f"({limit_name}); shorten or split it, or raise {limit_name}"
                    )
                if not raw.strip():
                    continue
                obj = json.loads(decode_utf8(raw, first=no == 1))
                if not isinstance(obj, dict):
                    raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
            except UnicodeDecodeError as e:
                err = DataError(
                    path, no, f"not valid UTF-8 (byte {e.start} of the line); re-encode as UTF-8"
                )
            except _TooLarge as e:
                err = DataError(path, no, str(e))
            except ValueError as e:
                err = DataError(
                    path, no, f"malformed JSONL line ({e.__class__.__name__}: {str(e)[:200]})"
                )
            else:
                yield no, clean_obj(obj) if _DIRTY.search(raw) else obj
                continue
            if not skip_bad:
                raise err from None
            if bad is not None:
                bad.append(err)


class _TooLarge(Exception):
    pass


# What can put a control byte or a lone surrogate into a parsed JSONL row: a \uXXXX escape of
# one (C0, DEL, C1, D800-DFFF), a \b \f \r escape, or a raw DEL / C1 byte (JSON forbids raw C0
# inside strings). A row without any is clean as parsed, and skips clean_obj (half the cost of
# reading it).
_DIRTY = re.compile(
    rb"(?<!\\)(?:\\\\)*\\(?:u(?:00[01]|007[fF]|00[89]|[dD][89a-fA-F])|[bfr])"  # odd backslashes
    rb"|\x7f|\xc2[\x80-\x9f]"
)


def bounded_lines(f, max_bytes: int | None) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, raw line or None if longer than max_bytes, its size): a long line is
    skipped in 1 MiB pieces, never held whole."""
    no = 0
    while True:
        raw = f.readline() if max_bytes is None else f.readline(max_bytes + 1)
        if not raw:
            return
        no += 1
        # readline(max_bytes + 1) ends in "\n" only if the line's text fits in max_bytes
        if max_bytes is None or len(raw) <= max_bytes or raw.endswith(b"\n"):
            yield no, raw, len(raw)
            continue
        size = len(raw)
        while not raw.endswith(b"\n"):
            raw = f.readline(_SKIP_CHUNK)
            if not raw:
                break
            size += len(raw)
        yield no, None, size


def check_row_size(path: str | os.PathLike, no: int, row: Any, max_bytes: int | None) -> None:
    """DataError if a row read whole (JSON array, Parquet) is larger than max_bytes as JSON."""
    if max_bytes is None:
        return
    size = len(json.dumps(row, ensure_ascii=False, default=str).encode())
    if size > max_bytes:
        raise DataError(
            path,
            no,
            f"row too large: {size:,} bytes, over the limit of {max_bytes:,} "
            "(max_row_bytes); shorten or split it, or raise max_row_bytes",
        )


def read_records(path: str | os.PathLike, **opts: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    """Read JSONL, a JSON array (or {"data": [...]}), or Parquet, as (row number, dict),
    through the same boundary as read_jsonl, with its options (skip_bad, bad, max_bytes,
    limit_name: bad rows go to `bad` when skip_bad is set)."""
    if set(opts) - {"skip_bad", "bad", "max_bytes", "limit_name"}:
        raise TypeError(f"read_records: unknown options {sorted(opts)}")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".json"):
        yield from read_jsonl(path, **opts)
        return
    skip_bad, bad = opts.get("skip_bad", False), opts.get("bad")
    for i, row in _whole_file_rows(path, suffix):
        try:
            if not isinstance(row, dict):
                raise DataError(path, i, f"item {i} is not a JSON object")
            check_row_size(path, i, row, opts.get("max_bytes"))
        except DataError as e:
            if not skip_bad:
                raise
            if bad is not None:
                bad.append(e)
            continue
        yield i, clean_obj(row)


def _whole_file_rows(path: Path, suffix: str) -> Iterator[tuple[int, Any]]:
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError as e:  # pragma: no cover - depends on the install
            raise ImportError("reading Parquet needs pyarrow: pip install 'metamath[train]'") from e
        pf = pq.ParquetFile(path)
        i = 0
        for batch in pf.iter_batches(batch_size=1024):  # a row group at a time, not the file
            for row in batch.to_pylist():
                i += 1
                yield i, row
        return
    try:
        data = json.loads(decode_utf8(path.read_bytes(), first=True))
    except (UnicodeDecodeError, ValueError) as e:
        raise DataError(path, None, f"not valid JSON ({e})") from None
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), None)
    if not isinstance(data, list):
        raise DataError(path, None, "expected a JSON array of objects")
    yield from enumerate(data, 1)


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


def dumps_line(obj: dict[str, Any]) -> str:
    """One JSONL line: the row as UTF-8 JSON (not ASCII-escaped) and a newline. Every JSONL file
    of the project is written through this (JsonlWriter, write_jsonl)."""
    return json.dumps(obj, ensure_ascii=False) + "\n"


class JsonlWriter:
    """The project's one JSONL writer, in two modes.

    mode "a" (the default): append-only stage files that a crash must not lose. A torn last line
    is cut first (repair_jsonl), and every write call ends in a flush, so a crash loses at most
    the call being written (a call is whole lines: a resumed run sees whole rows only).
    mode "w" with atomic=True: a whole output written once (a dataset, a rejection list). It
    goes to a temp file in the same directory, buffered, and replaces `path` only on a clean
    close; after an error the old file is left as it was.

        with JsonlWriter("work/rows.jsonl") as w: w.write(row)          # append, resumable
        with JsonlWriter("out.jsonl", "w", atomic=True) as w: w.write_rows(rows)
    """

    def __init__(self, path: str | os.PathLike, mode: str = "a", *, atomic: bool = False):
        if mode not in ("a", "w") or (atomic and mode != "w"):
            raise ValueError(f"JsonlWriter: mode={mode!r}, atomic={atomic}: use 'a', or 'w'")
        self.path = Path(path)
        self._flush = not atomic
        self._stack = contextlib.ExitStack()
        if atomic:
            self._f = self._stack.enter_context(_atomic(self.path))
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if mode == "a":
            repair_jsonl(self.path)
        self._f = self._stack.enter_context(open(self.path, mode, encoding="utf-8"))
        self._stack.callback(self._sync)  # runs before the file closes

    def write(self, obj: dict[str, Any]) -> None:
        self.write_lines((dumps_line(obj),))

    def write_rows(self, objs: Iterable[dict[str, Any]]) -> int:
        """Several rows; returns how many. Appending, they go in one write (and one flush): the
        rows of one request are on disk together or not at all. Atomic, they are streamed."""
        if not self._flush:
            n = 0
            for o in objs:
                self._f.write(dumps_line(o))
                n += 1
            return n
        lines = [dumps_line(o) for o in objs]
        self.write_lines(lines)
        return len(lines)

    def write_lines(self, lines: Iterable[str]) -> None:
        """Lines already made by dumps_line (in a worker process, say), in one write."""
        self._f.write("".join(lines))
        if self._flush:
            self._f.flush()

    def _sync(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc) -> None:
        self._stack.__exit__(*exc)


def file_mode() -> int:
    """The mode a new file gets under the process's umask (0o644 under the usual 022)."""
    try:  # Linux: read it without changing it (os.umask would race with other threads)
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def follow_umask(path: str | os.PathLike) -> None:
    """Give the owner-only files under `path` (a file or a directory) the umask's mode.

    For files written by libraries that create them through a private temp file
    (safetensors' save_file makes model.safetensors 0600): colleagues on a shared machine
    should read a run as they read any other file the user writes."""
    path = Path(path)
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    mode = file_mode()
    for p in files:
        st = p.lstat()
        if st.st_mode & 0o077 == 0 and (st.st_mode & 0o777) != mode:  # owner-only: loosen
            with contextlib.suppress(OSError):
                os.chmod(p, mode)


@contextlib.contextmanager
def _atomic(path: str | os.PathLike) -> Iterator[Any]:
    """A text file handle whose content replaces `path` only once it is complete (temp file in
    the same directory, fsync, rename); on error the old file is left as it was. mkstemp
    creates the temp file 0600; it gets the umask's mode before the rename, like any file
    opened for writing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, file_mode())
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
    """Write a whole file atomically (temp file in the same directory, then rename). These are
    configs, stats, results and reports: credentials are redacted (metamath.secrets)."""
    from metamath.secrets import redact_text

    with _atomic(path) as f:
        f.write(redact_text(text))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict[str, Any]]) -> int:
    """Write a whole JSONL file atomically; returns the row count."""
    with JsonlWriter(path, "w", atomic=True) as w:
        return w.write_rows(rows)
