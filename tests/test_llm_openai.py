"""The openai backend against a real HTTP server on 127.0.0.1 (our loopback fake: it speaks the
OpenAI REST API and counts what it receives)."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from _fake_server import FakeServer  # tests/ is on sys.path (pytest rootdir conftest)
from metamath.llm import make_llm
from metamath.llm._async import RateLimiter, parse_retry_after
from metamath.llm.base import LLMError, Request
from metamath.llm.openai_compat import OpenAILLM


@pytest.fixture
def server():
    srv = FakeServer().start()
    yield srv
    srv.stop()


def _llm(srv, **kw) -> OpenAILLM:
    return OpenAILLM("fake", base_url=srv.base_url, **{"progress": False, **kw})


def test_prompt_and_chat_with_n_and_usage(server):
    llm = make_llm("openai", "fake", base_url=server.base_url, progress=False)
    reqs = [
        Request(id="p", prompt="What is 2 + 3?", n=3, temperature=0.7, stop=("Q:",)),
        Request(id="c", messages=({"role": "user", "content": "Hi there"},), n=2, seed=7),
    ]
    res = {r.request.id: r for r in llm.generate(reqs)}
    assert res["p"].ok and [c.index for c in res["p"].completions] == [0, 1, 2]
    assert res["p"].completions[1].text == "answer 1 seed None to: What is 2 + 3?"
    assert res["c"].completions[0].text == "answer 0 seed 7 to: Hi there"
    paths = sorted(r["path"] for r in server.received)
    assert paths == ["/v1/chat/completions", "/v1/completions"]  # n samples, one request each
    body = next(r["body"] for r in server.received if r["path"] == "/v1/completions")
    assert body["n"] == 3 and body["stop"] == ["Q:"] and body["temperature"] == 0.7
    # usage: the prompt is counted once per request, on the first sample
    p = res["p"].completions
    assert p[0].prompt_tokens == 6 and p[1].prompt_tokens == 0
    assert sum(c.completion_tokens for c in p) == 3 * 10  # "answer i seed None to: What is 2 + 3?"
    assert llm.stats["requests"] == 2 and llm.stats["samples"] == 5
    assert llm.stats["prompt_tokens"] == 6 + 3 and llm.stats["failures"] == 0


def test_server_ignoring_n_is_noticed_and_fanned_out():
    srv = FakeServer(ignore_n=True).start()
    try:
        llm = _llm(srv)
        reqs = [Request(id=f"q{i}", prompt=f"question {i}", n=4, seed=100) for i in range(3)]
        res = list(llm.generate(reqs))
        assert all(r.ok and len(r.completions) == 4 for r in res)
        # Fanned-out samples carry seed + index, so they differ and are reproducible.
        texts = [c.text for c in next(r for r in res if r.request.id == "q0").completions]
        assert texts == [f"answer 0 seed {100 + i} to: question 0" for i in range(4)]
        assert llm.stats["fanned_out"] >= 3 and llm.stats["samples"] == 12
        # Learnt: a second job fans out from the start (n requests of n=1, no wasted n=4 call).
        before = len(srv.received)
        list(llm.generate([Request(id="z", prompt="again", n=3)]))
        assert [r["body"]["n"] for r in srv.received[before:]] == [1, 1, 1]
    finally:
        srv.stop()


def test_load_spreads_over_several_servers():
    a, b = FakeServer(latency=0.05).start(), FakeServer(latency=0.05).start()
    try:
        llm = OpenAILLM(
            "fake", base_url=f"{a.base_url},{b.base_url}", max_in_flight=8, progress=False
        )
        res = list(llm.generate([Request(id=str(i), prompt=f"q{i}") for i in range(40)]))
        assert sum(r.ok for r in res) == 40
        assert len(a.received) >= 10 and len(b.received) >= 10
    finally:
        a.stop()
        b.stop()


def test_max_in_flight_bounds_concurrency():
    srv = FakeServer(latency=0.1).start()
    try:
        llm = _llm(srv, max_in_flight=4)
        t0 = time.monotonic()
        assert all(r.ok for r in llm.generate([Request(id=str(i), prompt="x") for i in range(12)]))
        assert time.monotonic() - t0 >= 0.3  # 12 requests, 4 at a time, 0.1 s each
    finally:
        srv.stop()


def test_generate_works_inside_a_running_event_loop(server):
    llm = _llm(server)

    async def caller():
        return list(llm.generate([Request(id="a", prompt="inside a loop")]))

    (res,) = asyncio.run(caller())
    assert res.ok and res.completions[0].text.endswith("inside a loop")


def test_cost_is_counted_when_prices_are_set(server):
    llm = _llm(server, price_prompt_per_1m=1.0, price_completion_per_1m=2.0)
    list(llm.generate([Request(id="a", prompt="one two three")]))
    s = llm.stats
    assert s["cost_usd"] == pytest.approx((s["prompt_tokens"] + 2 * s["completion_tokens"]) / 1e6)


def test_api_key_comes_from_the_named_env_var(monkeypatch):
    srv = FakeServer(api_key="sekret").start()
    try:
        monkeypatch.setenv("MY_KEY", "sekret")
        assert _llm(srv, api_key_env="MY_KEY").generate([Request(id="a", prompt="x")]).__next__().ok
        monkeypatch.delenv("MY_KEY")
        with pytest.raises(LLMError, match=r"\$MY_KEY is unset"):
            list(_llm(srv, api_key_env="MY_KEY").generate([Request(id="a", prompt="x")]))
    finally:
        srv.stop()


def test_unknown_backend_and_bad_options_say_what_to_fix():
    with pytest.raises(ValueError, match="'openai'"):
        make_llm("gpt", "m")
    with pytest.raises(TypeError, match="max_inflight"):
        make_llm("openai", "m", max_inflight=3)


def test_rate_limiter_paces_requests():
    async def go():
        lim = RateLimiter(per_minute=600)  # 10/s, 1 s of burst
        t0 = time.monotonic()
        for _ in range(15):
            await lim.acquire()
        return time.monotonic() - t0

    assert 0.35 <= asyncio.run(go()) <= 1.5  # 10 in the burst, then 5 more at 10/s


def test_retry_after_parsing():
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= parse_retry_after({"retry-after": date}) <= 31


def test_progress_bar_shows_rates_retries_and_failures(capsys):
    srv = FakeServer().start()
    try:
        llm = _llm(srv, progress=True, max_retries=1, backoff_base=0.01)
        reqs = [
            Request(id="a", prompt="fine"),
            Request(id="b", prompt="flaky [500x1]"),
            Request(id="c", prompt="broken [500]"),
        ]
        list(llm.generate(reqs))
    finally:
        srv.stop()
    err = capsys.readouterr().err
    assert "3/3" in err and "req/s" in err and "tok/s" in err
    assert "retries=2" in err and "failed=1" in err


def test_importing_the_package_loads_no_backend():
    import subprocess
    import sys

    code = (
        "import sys, metamath.llm, metamath.llm.cache; "
        "print(sorted(m for m in ('aiohttp', 'openai', 'torch', 'transformers') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_max_n_splits_large_n_and_rpm_paces_requests(server):
    llm = _llm(server, max_n=2, rpm=600)  # 10 requests/s after a 1 s burst
    t0 = time.monotonic()
    (res,) = list(llm.generate([Request(id="a", prompt="big", n=5, seed=10)]))
    assert [c.index for c in res.completions] == list(range(5))
    got = sorted((r["body"]["n"], r["body"]["seed"]) for r in server.received)
    assert got == [(1, 14), (2, 10), (2, 12)]  # chunks of max_n, seed + first index
    assert res.completions[2].text == "answer 0 seed 12 to: big"
    list(llm.generate([Request(id=str(i), prompt="x") for i in range(15)]))
    assert time.monotonic() - t0 >= 0.4  # 18 requests at 10/s with 10 in the burst


def test_abandoning_the_iterator_cancels_the_rest():
    srv = FakeServer(latency=0.2).start()
    try:
        llm = _llm(srv, max_in_flight=2)
        t0 = time.monotonic()
        for _res in llm.generate([Request(id=str(i), prompt=f"q{i}") for i in range(100)]):
            break
        assert time.monotonic() - t0 < 3
        time.sleep(0.3)
        sent = len(srv.received)
        time.sleep(0.5)
        assert sent <= 6 and len(srv.received) == sent  # nothing more goes out
    finally:
        srv.stop()


def test_a_dead_server_among_several_is_avoided(server):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    llm = OpenAILLM(
        "fake",
        base_url=[dead, server.base_url],
        max_in_flight=4,
        max_retries=3,
        backoff_base=0.01,
        progress=False,
    )
    res = list(llm.generate([Request(id=str(i), prompt=f"q{i}") for i in range(40)]))
    assert all(r.ok for r in res) and len(server.received) == 40
    assert llm.stats["retries"] <= 8  # only the first few tries hit the dead one


@pytest.mark.parametrize(
    "raw,msg",
    [
        (b'{"error": {"message": "Rate limit reached", "code": 429}}', "Rate limit reached"),
        (b'{"detail": "Model not loaded"}', "Model not loaded"),  # FastAPI-style
        (b'{"error": "plain string"}', '{"error": "plain string"}'),
        (b"<html>502 Bad Gateway</html>", "<html>502 Bad Gateway</html>"),
    ],
)
def test_error_message_shapes(raw, msg):
    from metamath.llm._wire import error_message

    assert error_message(raw) == msg


@pytest.mark.parametrize("doc", [{}, {"choices": []}, {"choices": "x"}, [1, 2]])
def test_malformed_bodies_are_rejected(doc):
    from metamath.llm._wire import parse_choices

    with pytest.raises(ValueError):
        parse_choices(doc, chat=False)


@pytest.mark.parametrize(
    "choice, chat, error",
    [
        ({"index": 0}, False, "no text for this sample (null)"),
        ({"text": None}, False, "no text for this sample (null)"),
        ({"text": 42}, False, "no text for this sample (int)"),
        ({"message": {"content": None}}, True, "(null)"),
        ({"message": {"content": None, "refusal": "I can't"}}, True, "refusal: I can't"),
        ({"message": {"content": None, "tool_calls": [{}]}}, True, "tool call"),
        ({"message": None}, True, "(null)"),
        ("x", True, "choice is str"),
    ],
)
def test_a_choice_without_text_is_one_failed_sample(choice, chat, error):
    from metamath.llm._wire import parse_choices

    good = {"index": 1, "finish_reason": "stop"} | (
        {"message": {"content": "ok"}} if chat else {"text": "ok"}
    )
    if isinstance(choice, dict):
        choice = {"index": 0, **choice}
    out = parse_choices({"choices": [choice, good]}, chat=chat)
    assert out[1] == ("ok", "stop", None)  # the other sample is kept
    assert out[0][:2] == ("", "error") and error in out[0][2]


def test_choices_come_back_in_index_order():
    from metamath.llm._wire import parse_choices

    doc = {
        "choices": [
            {"index": 1, "message": {"content": "b"}, "finish_reason": "length"},
            {"index": 0, "message": {"content": "a"}, "finish_reason": None},
        ]
    }
    assert parse_choices(doc, chat=True) == [("a", "stop", None), ("b", "length", None)]
