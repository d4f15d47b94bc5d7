"""Symbolic equivalence through math-verify, under a timeout that works from any thread or process.

    symbolic_equiv("\\frac{\\sqrt{2}}{2}", "\\sin(\\pi/4)", timeout=2.0)  -> "correct"

math-verify's own timeout is signal.alarm, which raises off the main thread and does not exist
inside some pools. So its timeouts are switched off (parsing_timeout=None, timeout_seconds=None)
and math-verify runs in a small persistent worker subprocess per process (one line of JSON in,
one out). A call that overruns its timeout kills the worker (SIGKILL) and the next call starts a
fresh one. subprocess.Popen (not multiprocessing) is used so that daemonic pool workers, which
may not fork multiprocessing children, can still grade. A guard refuses inputs that are known to
blow up sympy (towers of powers, huge exponents, deep nesting, very long strings) before any
parsing, so they cost microseconds instead of a timeout. Model text is only ever *parsed* by
math-verify's LaTeX grammar, never evaluated as Python.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import subprocess
import sys
import threading
import time

MAX_CHARS = 400  # longer extracted answers are not answers anymore (MATH golds: max 159 chars)
MAX_DEPTH = 30  # brace/paren nesting
# sympy evaluates integer powers and factorials eagerly: 10^{10^{10}} or 10^{9999999} or 99999!
# never return. Plain powers up to 5-digit exponents (2^{4950}, a real MATH gold) are fine.
_NUM_TOWER = re.compile(r"\d[\s})]*\^[\s{(]*\d+[\s})]*\^")  # 10^{10^...: a number tower
_BIG_EXP = re.compile(r"\^\s*\{?\s*[-+]?\s*(\d{6,})")  # x^{123456}
_BIG_FACT = re.compile(r"\d{5,}\s*!")  # 10000!


def guard(s: str) -> str | None:
    """Why s is unsafe to hand to sympy ("too_long"), or None when it is fine."""
    if len(s) > MAX_CHARS:
        return "too_long"
    depth = 0
    for c in s:
        if c in "{([":
            depth += 1
            if depth > MAX_DEPTH:
                return "too_long"
        elif c in "})]":
            depth -= 1
    if _NUM_TOWER.search(s) or _BIG_EXP.search(s) or _BIG_FACT.search(s):
        return "too_long"
    return None


class _Worker:
    """One math-verify subprocess; owned by the process that started it (fork-safe)."""

    def __init__(self) -> None:
        # The child must import this same metamath even when it is not installed (a checkout
        # on sys.path): put our package root first on its PYTHONPATH.
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=path)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "metamath.answers._symbolic_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.pid = os.getpid()
        self.buf = b""
        line = self._readline(timeout=120.0)  # sympy import: ~1 s, more on a loaded machine
        if line is None or json.loads(line).get("ready") is not True:
            self.kill()
            raise RuntimeError(
                "math-verify worker failed to start; check `python -m "
                "metamath.answers._symbolic_worker` runs (math-verify installed?)"
            )

    def _readline(self, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:  # worker died (e.g. killed for memory)
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def ask(self, msg: dict, timeout: float) -> dict | str:
        """The worker's reply to one request, or "timeout" / "dead"."""
        try:
            self.proc.stdin.write((json.dumps(msg) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return "dead"
        line = self._readline(timeout)
        if line is None:
            return "timeout" if self.proc.poll() is None else "dead"
        try:
            got = json.loads(line)
        except ValueError:
            return "dead"  # a garbled reply: restart rather than trust the stream
        return got if isinstance(got, dict) and "r" in got else "dead"

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except Exception:  # already gone
            pass
        for pipe in (self.proc.stdin, self.proc.stdout):  # unclosed pipes leak descriptors
            try:
                pipe.close()
            except Exception:  # a broken pipe may fail to flush; it is closed anyway
                pass


class _Pool:
    """Holds this process's worker behind a lock (threads share it one call at a time)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.worker: _Worker | None = None

    def ask(self, msg: dict, timeout: float) -> dict | str:
        with self.lock:
            for _ in range(2):  # one retry when the worker had died between calls
                w = self.worker
                if w is None or w.pid != os.getpid() or w.proc.poll() is not None:
                    self.worker = w = _Worker()  # a forked child never shares its parent's pipe
                got = w.ask(msg, timeout)
                if got in ("timeout", "dead"):
                    w.kill()
                    self.worker = None
                if got != "dead":
                    return got
            return "error"

    def close(self) -> None:
        with self.lock:
            if self.worker is not None and self.worker.pid == os.getpid():
                self.worker.kill()
            self.worker = None


# The one per-process worker handle (a process-level resource like a connection pool, not data).
POOL = _Pool()
atexit.register(POOL.close)  # no worker outlives its interpreter


def symbolic_equiv(pred: str, gold: str, timeout: float = 2.0) -> str:
    """math-verify's verdict on two extracted answers: "correct", "mismatch", "timeout",
    "too_long" (refused by the guard) or "error"."""
    for s in (pred, gold):
        why = guard(s)
        if why:
            return why
    got = POOL.ask({"p": pred, "g": gold}, timeout)
    if isinstance(got, str):
        return got
    return got["r"] if got["r"] in ("correct", "mismatch", "error") else "error"
