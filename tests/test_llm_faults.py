"""Faults from a loopback server (429 + Retry-After, 500, hangs, dropped connections, malformed
JSON): every answerable request is answered, retries are bounded, and the unanswerable ones come
back with their error, never as an empty answer. Fatal errors stop the job with what to fix."""

from __future__ import annotations

import time

import pytest

from _fake_server import FakeServer
from metamath.llm.base import LLMError, Request
from metamath.llm.cache import CachedLLM
from metamath.llm.openai_compat import OpenAILLM

TRANSIENT = ["[429x2]", "[500x2]", "[hangx1]", "[dropx2]", "[badjsonx1]"]
PERMANENT = ["[500]", "[drop]", "[badjson]"]


@pytest.fixture
def server():
    srv = FakeServer(retry_after="1").start()
    yield srv
    srv.stop()


def _llm(srv, **kw) -> OpenAILLM:
    opts = {"timeout": 1.5, "max_retries": 3, "backoff_base": 0.05, "progress": False}
    return OpenAILLM("fake", base_url=srv.base_url, **{**opts, **kw})


def _hits(srv, marker: str) -> list[float]:
    return [r["t"] for r in srv.received if marker in r["body"].get("prompt", "")]


def test_transient_faults_are_retried_and_permanent_ones_recorded(server, tmp_path):
    prompts = (
        [f"fine {i}" for i in range(6)]
        + [f"flaky {m}" for m in TRANSIENT]
        + [f"broken {m}" for m in PERMANENT]
    )
    reqs = [Request(id=p, prompt=p, n=2) for p in prompts]
    llm = _llm(server)
    t0 = time.monotonic()
    res = {r.request.id: r for r in CachedLLM(llm, tmp_path / "c.sqlite").generate(reqs)}
    assert time.monotonic() - t0 < 30
    assert set(res) == set(prompts)  # every request comes back exactly once
    for p in prompts[: -len(PERMANENT)]:
        assert res[p].ok and len(res[p].completions) == 2, (p, res[p].error)
        assert all(c.text.startswith("answer ") for c in res[p].completions)
    for m, kind in zip(
        PERMANENT, ["HTTP 500", "connection error", "malformed response"], strict=True
    ):
        r = res[f"broken {m}"]
        assert not r.ok and r.completions == () and kind in r.error and "gave up" in r.error
        assert len(_hits(server, m)) == 4  # 1 try + max_retries, then it stops
    # Retry-After: 1 was honoured between the 429s and the retry that succeeded.
    t = _hits(server, "[429x2]")
    assert len(t) == 3 and all(b - a >= 0.95 for a, b in zip(t, t[1:], strict=False))
    assert len(_hits(server, "[hangx1]")) == 2  # timed out once, answered the second time
    s = llm.stats
    assert s["failures"] == len(PERMANENT) and s["samples"] == 2 * (len(prompts) - 3)
    assert s["retries"] == 2 + 2 + 1 + 2 + 1 + 3 * len(PERMANENT)


def test_errors_are_not_cached(server, tmp_path):
    path = tmp_path / "c.sqlite"
    reqs = [Request(id="ok", prompt="fine"), Request(id="bad", prompt="broken [500]")]
    with CachedLLM(_llm(server, max_retries=1), path) as llm:
        res = {r.request.id: r for r in llm.generate(reqs)}
        assert res["ok"].ok and not res["bad"].ok
        assert len(llm) == 1  # only the answered sample is stored
    before = len(server.received)
    with CachedLLM(_llm(server, max_retries=1), path) as llm:
        res = {r.request.id: r for r in llm.generate(reqs)}
    sent = [r["body"]["prompt"] for r in server.received[before:]]
    assert sent == ["broken [500]"] * 2  # the failure is asked again, the answer is not
    assert res["ok"].completions[0].cached


def test_context_length_fails_fast(server):
    marker, match = "[400ctx]", r"context length: lower max_tokens \(now 512\)"
    reqs = [Request(id=str(i), prompt=f"q{i}") for i in range(50)]
    reqs.insert(3, Request(id="long", prompt=f"too long {marker}"))
    t0 = time.monotonic()
    with pytest.raises(LLMError, match=match):
        list(_llm(server, max_in_flight=2).generate(reqs))
    assert time.monotonic() - t0 < 5
    assert len(_hits(server, marker)) == 1  # not retried
    assert len(server.received) < 51  # the job stopped instead of sending everything


def test_unknown_model_fails_fast_naming_the_fix():
    srv = FakeServer(models=("served-model",)).start()
    try:
        with pytest.raises(LLMError, match=r"model 'wrong'.*GET /v1/models"):
            list(
                OpenAILLM("wrong", base_url=srv.base_url, progress=False).generate(
                    [Request(id="a", prompt="x")]
                )
            )
    finally:
        srv.stop()


def test_unreachable_server_is_a_recorded_error_not_a_hang():
    llm = OpenAILLM(
        "m", base_url="http://127.0.0.1:9/v1", max_retries=2, backoff_base=0.01, progress=False
    )
    (res,) = list(llm.generate([Request(id="a", prompt="x")]))
    assert not res.ok and "connection error" in res.error and res.retries == 2


def test_bad_request_can_be_recorded_instead(server):
    reqs = [Request(id="long", prompt="too long [400ctx]"), Request(id="ok", prompt="fine")]
    res = {r.request.id: r for r in _llm(server, on_bad_request="record").generate(reqs)}
    assert res["ok"].ok and not res["long"].ok and res["long"].completions == ()
    assert "context length" in res["long"].error
    assert len(_hits(server, "[400ctx]")) == 1  # not retried
