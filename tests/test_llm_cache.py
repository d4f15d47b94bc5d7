"""CachedLLM on a real SQLite file: re-runs send nothing, only missing samples are asked for,
errors are not cached, answered samples of a failed request are kept."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

import pytest

from _fake_server import FakeServer
from metamath.llm.base import Completion, Request, Result
from metamath.llm.cache import CachedLLM
from metamath.llm.openai_compat import OpenAILLM


class Scripted:
    """A scripted backend: answers 'text i' per sample, records every request it gets."""

    model = "scripted"

    def __init__(self, fail_after: int | None = None):
        self.seen: list[Request] = []
        self.fail_after = fail_after  # answer only this many samples, then report an error

    def generate(self, requests: Sequence[Request]) -> Iterator[Result]:
        for r in requests:
            self.seen.append(r)
            comps = tuple(
                Completion(f"{r.prompt} s{r.seed} #{i}", i, completion_tokens=3) for i in range(r.n)
            )
            if self.fail_after is not None:
                yield Result(
                    r, (), error="HTTP 500: boom", meta={"partial": list(comps[: self.fail_after])}
                )
            else:
                yield Result(r, comps)

    def close(self) -> None:
        pass


@pytest.fixture
def server():
    srv = FakeServer().start()
    yield srv
    srv.stop()


def test_rerun_of_a_finished_job_sends_zero_requests(server, tmp_path):
    path = tmp_path / "cache.sqlite"
    reqs = [Request(id=f"q{i}", prompt=f"question {i}", n=3, temperature=0.8) for i in range(20)]
    with CachedLLM(OpenAILLM("fake", base_url=server.base_url, progress=False), path) as llm:
        first = {r.request.id: r for r in llm.generate(reqs)}
        assert llm.stats["cache_misses"] == 60 and llm.stats["requests"] == 20
    sent = len(server.received)
    with CachedLLM(OpenAILLM("fake", base_url=server.base_url, progress=False), path) as llm:
        again = {r.request.id: r for r in llm.generate(reqs)}
        assert llm.stats["cache_hits"] == 60 and llm.stats["requests"] == 0
    assert len(server.received) == sent  # not one request
    for k, r in first.items():
        assert [c.text for c in again[k].completions] == [c.text for c in r.completions]
        assert all(c.cached for c in again[k].completions)
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_only_missing_samples_are_asked_for(tmp_path):
    inner = Scripted()
    llm = CachedLLM(inner, tmp_path / "c.sqlite")
    list(llm.generate([Request(id="a", prompt="P", n=2), Request(id="b", prompt="Q", n=2, seed=5)]))
    inner.seen.clear()
    res = {
        r.request.id: r
        for r in llm.generate(
            [Request(id="a", prompt="P", n=4), Request(id="b", prompt="Q", n=4, seed=5)]
        )
    }
    # unseeded: one request for the 2 missing samples; seeded: one per missing index, seed + i
    assert sorted((r.prompt, r.n, r.seed) for r in inner.seen) == [
        ("P", 2, None),
        ("Q", 1, 7),
        ("Q", 1, 8),
    ]
    assert [c.index for c in res["a"].completions] == [0, 1, 2, 3]
    assert [c.cached for c in res["a"].completions] == [True, True, False, False]
    assert res["b"].completions[3].text == "Q s8 #0" and res["b"].meta["cached_samples"] == 2


def test_key_covers_model_and_sampling(tmp_path):
    path = tmp_path / "c.sqlite"
    a, b = Scripted(), Scripted()
    b.model = "other-model"
    list(CachedLLM(a, path).generate([Request(id="x", prompt="P", temperature=0.5)]))
    list(CachedLLM(b, path).generate([Request(id="x", prompt="P", temperature=0.5)]))
    list(CachedLLM(a, path).generate([Request(id="y", prompt="P", temperature=0.7)]))
    list(CachedLLM(a, path).generate([Request(id="z", prompt="P", temperature=0.5)]))
    assert [r.id for r in a.seen] == ["x#cache0", "y#cache0"] and len(b.seen) == 1


def test_partial_answers_of_a_failed_request_are_kept_errors_are_not(tmp_path):
    path = tmp_path / "c.sqlite"
    llm = CachedLLM(Scripted(fail_after=1), path)
    (res,) = list(llm.generate([Request(id="a", prompt="P", n=3)]))
    assert not res.ok and res.completions == () and "boom" in res.error
    assert [c.index for c in res.meta["partial"]] == [0]
    assert len(llm) == 1
    inner = Scripted()
    (res,) = list(CachedLLM(inner, path).generate([Request(id="a", prompt="P", n=3)]))
    assert res.ok and [(r.n, r.seed) for r in inner.seen] == [(2, None)]
    assert res.completions[0].cached and not res.completions[1].cached


def test_sample_keys_equal_cache_key():
    from metamath.llm.base import cache_key
    from metamath.llm.cache import sample_keys

    reqs = [
        Request(id="a", prompt='Ünïcode \\boxed{1} "q"', n=3, seed=4, stop=("Q:",)),
        Request(id="b", messages=({"role": "user", "content": "hi"},), n=12, top_p=0.9),
    ]
    for r in reqs:
        assert sample_keys("m", r) == [cache_key("m", r, i) for i in range(r.n)]
    assert len(set(sample_keys("m", reqs[1]))) == 12


WRITER = """
import sys
from metamath.llm.base import Completion, Request, Result
from metamath.llm.cache import CachedLLM

class Echo:
    model = "echo"
    def generate(self, reqs):
        for r in reqs:
            yield Result(r, tuple(Completion(f"{r.prompt}#{i}", i) for i in range(r.n)))
    def close(self):
        pass

who, path = sys.argv[1], sys.argv[2]
with CachedLLM(Echo(), path) as llm:
    for k in range(200):  # one Result per generate call: 200 separate commits
        list(llm.generate([Request(id=f"{who}{k}", prompt=f"{who} {k}", n=3)]))
"""


def test_several_processes_share_one_file(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "shared.sqlite"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, who, str(path)]) for who in "abc"]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM samples").fetchone() == (
        1800,
        1800,
    )
