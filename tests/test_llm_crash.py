"""Crash: SIGKILL a running generation job half-way, run it again. The output is complete with
no duplicates, and the server (which records every request) never again receives a request
that was answered before the kill."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

from _fake_server import FakeServer
from metamath.io import read_jsonl

N = 80

JOB = """
import sys
from metamath.io import JsonlWriter, done_ids
from metamath.llm.base import Request
from metamath.llm.cache import CachedLLM
from metamath.llm.openai_compat import OpenAILLM

base_url, out, cache, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
done = done_ids(out)  # resume: skip what the output already has
reqs = [Request(id=f"q{i}", prompt=f"question {i}", n=2, temperature=0.7)
        for i in range(n) if f"q{i}" not in done]
llm = CachedLLM(OpenAILLM("fake", base_url=base_url, max_in_flight=4, progress=False), cache)
with JsonlWriter(out) as w:
    for r in llm.generate(reqs):
        w.write({"id": r.request.id, "texts": [c.text for c in r.completions], "error": r.error})
"""


def _run_job(tmp_path, srv) -> subprocess.Popen:
    script = tmp_path / "job.py"
    script.write_text(JOB)
    return subprocess.Popen(
        [
            sys.executable,
            str(script),
            srv.base_url,
            str(tmp_path / "out.jsonl"),
            str(tmp_path / "cache.sqlite"),
            str(N),
        ]
    )


def _lines(path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_sigkill_half_way_then_resume(tmp_path):
    srv = FakeServer(latency=0.1).start()
    out = tmp_path / "out.jsonl"
    try:
        job = _run_job(tmp_path, srv)
        deadline = time.monotonic() + 60
        while _lines(out) < 20 and time.monotonic() < deadline and job.poll() is None:
            time.sleep(0.01)
        os.kill(job.pid, signal.SIGKILL)
        job.wait()
        assert job.returncode == -signal.SIGKILL
        written_before = _lines(out)
        assert 20 <= written_before < N, "the kill did not land half-way"
        db = sqlite3.connect(tmp_path / "cache.sqlite")
        answered = {rid.split("#")[0] for (rid,) in db.execute("SELECT request_id FROM samples")}
        db.close()
        received_before = len(srv.received)

        job = _run_job(tmp_path, srv)
        assert job.wait(timeout=120) == 0
    finally:
        srv.stop()

    rows = [obj for _, obj in read_jsonl(out)]
    ids = [r["id"] for r in rows]
    assert sorted(ids) == sorted(f"q{i}" for i in range(N))  # complete, no duplicates
    assert all(r["error"] is None and len(r["texts"]) == 2 for r in rows)
    for r in rows:
        assert r["texts"][0].endswith(f"to: question {r['id'][1:]}")
    after = [r["body"]["prompt"] for r in srv.received[received_before:]]
    assert after, "the second run had nothing left to ask"
    resent = {p for p in after if f"q{p.split()[-1]}" in answered}
    assert not resent, f"answered before the kill, yet asked again: {sorted(resent)}"
    assert len(after) <= N - len(answered)
