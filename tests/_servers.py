"""Real servers in subprocesses for tests: a free loopback port, readiness by /health, teardown.

    with open(tmp_path / "serve.log", "w") as log, \\
            running_server([... "metamath", "serve", model, "--port", str(port)], port, log) as url:
        ...                                   # url = "http://127.0.0.1:PORT/v1"
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(proc: subprocess.Popen, port: int, log: Path | str, wait_s: float = 180) -> None:
    """Wait until GET /health on the port answers 200; fail with the log's tail otherwise."""
    deadline = time.monotonic() + wait_s
    while True:
        if proc.poll() is not None:
            pytest.fail(
                f"{proc.args[:4]} exited with {proc.returncode}:\n"
                + Path(log).read_text(errors="replace")[-2000:]
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(
                f"{proc.args[:4]} not ready after {wait_s}s:\n"
                + Path(log).read_text(errors="replace")[-2000:]
            )
        time.sleep(0.5)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running_server(
    cmd: list[str], port: int, log, wait_s: float = 180, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Start `cmd` (writing to the open file `log`), wait for /health, yield the /v1 base URL."""
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_ready(proc, port, log.name, wait_s)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(proc)
