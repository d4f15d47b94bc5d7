"""One run per run directory, with real processes racing for it (metamath.runlock)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _fake_server import FakeServer
from _hostile import augment_args, hostile_choices, write_seeds
from metamath.runlock import LOCK_NAME, RunLocked, run_lock

HOLD = (
    "import sys, time\n"
    "from metamath.runlock import run_lock\n"
    "with run_lock(sys.argv[1], 'holder'):\n"
    "    print('locked', flush=True)\n"
    "    time.sleep(60)\n"
)


def _holder(run: Path) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(run)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    return p


def test_a_second_process_is_refused_at_once_and_told_who_holds_it(tmp_path):
    run = tmp_path / "run"
    p = _holder(run)
    try:
        t0 = time.monotonic()
        with pytest.raises(RunLocked) as e, run_lock(run, "second"):
            pass
        assert time.monotonic() - t0 < 1.0
        msg = str(e.value)
        assert f"pid {p.pid}" in msg and f"host {socket.gethostname()}" in msg
        assert "holder" in msg and "another directory" in msg
    finally:
        p.kill()
        p.wait()


def test_a_crashed_run_leaves_a_stale_lock_that_is_taken_over(tmp_path):
    run = tmp_path / "run"
    p = _holder(run)
    os.kill(p.pid, signal.SIGKILL)  # no cleanup: the lock file stays, with a dead pid in it
    p.wait()
    assert json.loads((run / LOCK_NAME).read_text())["pid"] == p.pid
    with run_lock(run, "next"):
        assert json.loads((run / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert not (run / LOCK_NAME).exists()  # released and removed


def test_without_flock_a_dead_pid_is_taken_over_and_a_live_one_refused(tmp_path, monkeypatch):
    import metamath.runlock as rl

    monkeypatch.setattr(rl, "_flock", lambda *a: None)  # a file system without flock
    run = tmp_path / "run"
    run.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    meta = {"pid": dead.pid, "host": socket.gethostname(), "stage": "augment"}
    (run / LOCK_NAME).write_text(json.dumps(meta))
    with run_lock(run, "next"):
        with pytest.raises(RunLocked, match=f"pid {os.getpid()}"), run_lock(run, "third"):
            pass
    assert not (run / LOCK_NAME).exists()


def _race(first: list[str], second: list[str], run: Path, cwd: Path) -> tuple[int, float]:
    """Start `first`; once it holds `run`, start `second`: (second's exit code, its seconds);
    waits for the first to finish and checks it succeeded."""
    a = subprocess.Popen(first, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (run / LOCK_NAME).exists():
        assert a.poll() is None and time.monotonic() < deadline, a.stderr.read()
        time.sleep(0.02)
    t0 = time.monotonic()
    b = subprocess.run(second, cwd=cwd, capture_output=True, text=True, timeout=60)
    took = time.monotonic() - t0
    assert a.poll() is None, "the first run must still be running"
    assert a.wait(timeout=600) == 0, a.stderr.read()
    assert "is in use by pid" in b.stderr, b.stderr
    return b.returncode, took


def _outputs(run: Path, names: list[str]) -> dict[str, list[str]]:
    return {n: sorted((run / n).read_text().splitlines()) for n in names}


CLI = [sys.executable, "-m", "metamath"]


def test_two_augments_on_one_directory(tmp_path):
    srv = FakeServer(latency=0.4, choices=hostile_choices).start()
    try:
        seeds = write_seeds(tmp_path / "seeds.jsonl", n=6)
        solo, run = tmp_path / "solo", tmp_path / "run"
        cmd = lambda out: [*CLI, *augment_args(seeds, srv.base_url, out, k=2)]  # noqa: E731
        assert subprocess.run(cmd(solo), capture_output=True).returncode == 0
        n_solo = len(srv.received)
        code, took = _race(cmd(run), cmd(run), run, tmp_path)
        assert code == 2 and took < 5, took  # interpreter start-up included
        assert len(srv.received) == 2 * n_solo, "no request was sent twice"
        names = ["metamathqa.jsonl", "rejected.jsonl", "work/candidates.jsonl"]
        assert _outputs(run, names) == _outputs(solo, names)
    finally:
        srv.stop()


def test_two_evals_on_one_directory(tmp_path):
    srv = FakeServer(latency=0.4, choices=hostile_choices).start()
    try:
        seeds = write_seeds(tmp_path / "apples.jsonl", n=6)

        def cmd(out: Path) -> list[str]:
            return [
                *CLI,
                "eval",
                "--backend",
                "openai",
                "--model",
                "fake",
                "--tasks",
                str(seeds),
                f"options.base_url={srv.base_url}",
                "options.max_in_flight=1",
                "--out",
                str(out),
                "--no-progress",
            ]

        solo, run = tmp_path / "solo", tmp_path / "run"
        assert subprocess.run(cmd(solo), capture_output=True).returncode == 0
        code, took = _race(cmd(run), cmd(run), run, tmp_path)
        assert code == 2 and took < 5, took
        assert len(srv.received) == 12
        assert _outputs(run, ["samples.jsonl"]) == _outputs(solo, ["samples.jsonl"])
    finally:
        srv.stop()


@pytest.mark.slow
def test_two_trains_on_one_directory(tmp_path, tiny_model_dir):
    data = tmp_path / "d.jsonl"
    data.write_text(
        "".join(
            json.dumps(
                {
                    "query": f"What is {i} + 2?",
                    "response": f"{i} + 2 = {i + 2}.\nThe answer is: {i + 2}",
                }
            )
            + "\n"
            for i in range(16)
        )
    )
    recipe = Path(__file__).resolve().parents[1] / "configs" / "train" / "tiny_cpu.yaml"

    def cmd(out: Path) -> list[str]:
        return [
            *CLI,
            "train",
            "--config",
            str(recipe),
            f"model={tiny_model_dir}",
            f"data.path={data}",
            "data.query_field=query",
            "data.response_field=response",
            "max_steps=4",
            "global_batch_size=4",
            "micro_batch_size=4",
            f"data.cache_dir={tmp_path / 'tok'}",
            "--run-dir",
            str(out),
        ]

    solo, run = tmp_path / "solo", tmp_path / "run"
    assert subprocess.run(cmd(solo), capture_output=True).returncode == 0
    code, took = _race(cmd(run), cmd(run), run, tmp_path)
    assert code == 2 and took < 5, took  # refused before torch is imported
    losses = [json.loads((d / "stats.json").read_text())["losses"] for d in (solo, run)]
    assert losses[0] == losses[1]
    from metamath.io import file_mode  # everything the run wrote, weights included

    modes = {
        str(f.relative_to(run)): f.stat().st_mode & 0o777 for f in run.rglob("*") if f.is_file()
    }
    assert "model/model.safetensors" in modes
    assert all(m == file_mode() for m in modes.values()), modes
