"""One run per run directory: a lock held for the run's whole lifetime.

    with run_lock("runs/aug1", "augment"):     # RunLocked at once if another run holds it
        ...                                     # write the run

Two runs writing one directory would send (and bill) every request twice and leave doubled
files behind. The lock is an OS lock (fcntl.flock) on `<run dir>/.metamath.lock`, so it is
released by the kernel whenever its process ends, a crash or kill -9 included: a stale lock file
left by a crash is simply taken over. The file also holds who holds the lock (pid, host, command,
start time), so a refused run names its holder; the holder removes the file when it finishes.
Where a file system cannot flock (some network mounts), an exclusive create of the same file is
used instead, and a lock whose pid is dead on this host is taken over.

Several processes of one run (accelerate/torchrun ranks) are one logical run: the main process
takes the lock and the others follow its answer (see metamath.train.sft).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".metamath.lock"


class RunLocked(RuntimeError):
    """Another live run holds the run directory; the message names it and the way out."""


def _holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _describe(info: dict) -> str:
    if not info:
        return "another process (no details recorded yet)"
    return (
        f"pid {info.get('pid')} on host {info.get('host')} "
        f"({info.get('stage', 'a run')}, started {info.get('started', '?')}: "
        f"{info.get('command', '?')})"
    )


def _refuse(run_dir: Path, info: dict) -> RunLocked:
    return RunLocked(
        f"{run_dir} is in use by {_describe(info)}. Two runs in one directory would repeat "
        "every request and double the outputs: wait for that run to finish (re-running "
        "then resumes it), stop it, or give this run another directory"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _metadata(stage: str) -> bytes:
    from metamath.secrets import redact_text

    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "stage": stage,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": redact_text(" ".join(sys.argv))[:500],
    }
    return json.dumps(info).encode()


def _flock(path: Path, run_dir: Path, stage: str) -> int | None:
    """The locked fd, None if flock is unsupported here; RunLocked if another run holds it."""
    import fcntl

    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise _refuse(run_dir, _holder(path)) from None
            if e.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                return None
            raise
        # The holder before us may have removed the file between our open and our flock: then
        # we hold a lock on a file nobody else can see; start again on the current one.
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, _metadata(stage), 0)
            return fd
        os.close(fd)


def _exclusive(path: Path, run_dir: Path, stage: str) -> int:
    """Without flock: create the file exclusively; take over a dead process's file."""
    for _ in range(3):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            info = _holder(path)
            pid = info.get("pid")
            if (
                info.get("host") == socket.gethostname()
                and isinstance(pid, int)
                and not _alive(pid)
            ):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()  # a crashed run's lock: take it over
                continue
            raise _refuse(run_dir, info) from None
        os.write(fd, _metadata(stage))
        return fd
    raise _refuse(run_dir, _holder(path))


@contextlib.contextmanager
def run_lock(run_dir: str | os.PathLike, stage: str = "run") -> Iterator[Path]:
    """Hold the run directory (created if needed) for the body; RunLocked at once if another
    live run holds it. Yields the run directory."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_NAME
    fd = _flock(path, run_dir, stage)
    if fd is None:
        fd = _exclusive(path, run_dir, stage)
    try:
        yield run_dir
    finally:
        # Remove the file while still holding the lock, then release it: a run that opened the
        # old file meanwhile notices (inode check above) and starts again on a fresh one.
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)
