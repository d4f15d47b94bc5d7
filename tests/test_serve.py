"""`metamath serve` end to end: the hf backend behind real HTTP on 127.0.0.1, spoken to by the
`openai` client (and plain HTTP for the error paths)."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from _servers import free_port, running_server

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("torch")
openai = pytest.importorskip("openai")


@pytest.fixture(scope="module")
def hf(tiny_model_dir):
    from metamath.llm.hf import HFLLM

    return HFLLM(str(tiny_model_dir), batch_size=8)


@pytest.fixture(scope="module")
def server(hf):
    from metamath.llm.serve import build_app, serve_in_thread

    app = build_app(hf, "tiny", batch_wait_s=0.05)
    with serve_in_thread(app) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server, api_key="unused", max_retries=0)


def post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_health_and_models(server, client):
    with urllib.request.urlopen(server.removesuffix("/v1") + "/health") as r:
        assert json.loads(r.read()) == {"status": "ok"}
    assert [m.id for m in client.models.list().data] == ["tiny"]


def test_completions_n_usage_and_same_text_as_in_process(client, hf):
    from metamath.llm.base import Request, generate_all

    out = client.completions.create(
        model="tiny", prompt="Find x", max_tokens=8, n=3, temperature=0.9, seed=5
    )
    assert [c.index for c in out.choices] == [0, 1, 2]
    assert out.usage.prompt_tokens == len(hf.encode(Request(id="x", prompt="Find x")))
    assert out.usage.completion_tokens == 24  # random weights: no EOS within 8 tokens
    assert out.usage.total_tokens == out.usage.prompt_tokens + 24
    local = generate_all(
        hf, [Request(id="x", prompt="Find x", max_tokens=8, n=3, temperature=0.9, seed=5)]
    )["x"]
    assert [c.text for c in out.choices] == [c.text for c in local.completions]
    assert {c.finish_reason for c in out.choices} == {"length"}


def test_completions_prompt_list_and_stop(client):
    full = (
        client.completions.create(model="tiny", prompt="Find x", max_tokens=16, temperature=0)
        .choices[0]
        .text
    )
    stop = full[5:8]
    out = client.completions.create(
        model="tiny", prompt=["Find x", "#### 72"], max_tokens=16, temperature=0, n=2, stop=[stop]
    )
    assert [c.index for c in out.choices] == [0, 1, 2, 3]
    assert out.choices[0].text == full[: full.find(stop)]
    assert out.choices[0].finish_reason == "stop"


def test_completions_token_id_prompts(client, hf, server):
    """The OpenAI protocol's token-id prompts (one list, or a list of lists, as
    lm-evaluation-harness's local-completions sends them) give what the text gives."""
    texts = ["Find x if 2x = 6.", "#### 72 apples"]
    ids = [hf.tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    kw = {"model": "tiny", "max_tokens": 12, "temperature": 0}
    by_text = client.completions.create(prompt=texts, **kw)
    by_ids = client.completions.create(prompt=ids, **kw)
    one = client.completions.create(prompt=ids[0], **kw)
    assert [c.text for c in by_ids.choices] == [c.text for c in by_text.choices]
    assert one.choices[0].text == by_text.choices[0].text
    assert by_ids.usage.prompt_tokens == sum(len(i) for i in ids)
    # ids that are not the tokenizer's own split, or outside the vocabulary: a clear 400
    status, body = post(f"{server}/completions", {**kw, "prompt": [len(hf.tokenizer) + 5]})
    assert status == 400 and "outside the vocabulary" in body["error"]["message"]
    chars = [hf.tokenizer.convert_tokens_to_ids(c) for c in "Find"]
    assert hf.tokenizer("Find", add_special_tokens=False)["input_ids"] != chars
    status, body = post(f"{server}/completions", {**kw, "prompt": chars})
    assert status == 400 and "send the prompt as text" in body["error"]["message"]


def test_chat_completions(client):
    out = client.chat.completions.create(
        model="tiny",
        messages=[{"role": "user", "content": "Find x"}],
        max_tokens=6,
        n=2,
        temperature=0.7,
        top_p=0.9,
        seed=1,
    )
    assert len(out.choices) == 2 and out.choices[0].message.role == "assistant"
    assert out.usage.completion_tokens == 12 and out.usage.prompt_tokens > 3


def test_concurrent_requests_are_batched(client):
    prompts = [f"Question {i}" for i in range(12)]
    with ThreadPoolExecutor(12) as pool:
        outs = list(
            pool.map(
                lambda p: client.completions.create(
                    model="tiny", prompt=p, max_tokens=4, temperature=0
                ),
                prompts,
            )
        )
    assert all(len(o.choices) == 1 for o in outs)
    # equal to one-by-one answers: batching through HTTP does not change greedy text
    assert (
        outs[3].choices[0].text
        == client.completions.create(model="tiny", prompt=prompts[3], max_tokens=4, temperature=0)
        .choices[0]
        .text
    )


def test_errors_are_openai_shaped(server):
    code, body = post(server + "/completions", {"model": "nope", "prompt": "x"})
    assert code == 404 and "tiny" in body["error"]["message"]
    code, body = post(server + "/completions", {"model": "tiny", "prompt": "x", "n": 0})
    assert code == 400 and body["error"]["param"] == "n"
    code, body = post(server + "/completions", {"model": "tiny", "prompt": "x", "stream": True})
    assert code == 400 and "stream" in body["error"]["message"]
    code, body = post(
        server + "/completions", {"model": "tiny", "prompt": "x", "max_tokens": 10**6}
    )
    assert code == 400 and "max_tokens" in body["error"]["message"]


@pytest.mark.slow
def test_metamath_serve_cli(tiny_model_dir, tmp_path):
    """The real command in a subprocess, bound to 127.0.0.1 only."""
    port = free_port()
    cmd = [sys.executable, "-m", "metamath", "serve", str(tiny_model_dir), "--port", str(port)]
    with open(tmp_path / "serve.log", "w") as log, running_server(cmd, port, log) as url:
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0)
        out = client.completions.create(model=str(tiny_model_dir), prompt="1+1=", max_tokens=4, n=2)
        assert len(out.choices) == 2 and out.usage.completion_tokens == 8


def test_openai_backend_against_serve(server, hf, monkeypatch):
    """The project's own `openai` backend through `metamath serve` gives the in-process texts."""
    from metamath.llm import make_llm
    from metamath.llm.base import Request, generate_all

    monkeypatch.setenv("OPENAI_API_KEY", "unused")
    remote = make_llm("openai", "tiny", base_url=server, progress=False)
    reqs = [
        Request(id="a", prompt="Find x", n=3, temperature=0.8, seed=2, max_tokens=8),
        Request(id="b", messages=({"role": "user", "content": "hi"},), max_tokens=8),
    ]
    got, want = generate_all(remote, reqs), generate_all(hf, reqs)
    for k in want:
        assert [c.text for c in got[k].completions] == [c.text for c in want[k].completions]
    assert remote.stats["completion_tokens"] == 32 and remote.stats["fanned_out"] == 0


class ScriptedLLM:
    """A fake engine for the server's own logic: echoes prompts, records batch sizes, fails on
    request."""

    model = "fake"

    def __init__(self):
        self.batches: list[int] = []

    def generate(self, requests):
        from metamath.llm.base import Completion, Result

        self.batches.append(len(requests))
        if any((r.prompt or "") == "crash" for r in requests):
            raise RuntimeError("engine exploded")
        for r in requests:
            yield Result(
                r,
                completions=tuple(
                    Completion(
                        text=f"{r.prompt}#{i}", index=i, prompt_tokens=1, completion_tokens=2
                    )
                    for i in range(r.n)
                ),
            )

    def close(self):
        pass


def test_batcher_gathers_concurrent_requests_and_survives_engine_errors():
    from metamath.llm.serve import build_app, serve_in_thread

    fake = ScriptedLLM()
    with serve_in_thread(build_app(fake, batch_wait_s=0.5)) as url:
        with ThreadPoolExecutor(8) as pool:
            outs = list(
                pool.map(
                    lambda i: post(
                        url + "/completions", {"model": "fake", "prompt": f"p{i}", "n": 2}
                    ),
                    range(8),
                )
            )
        assert [o[1]["choices"][1]["text"] for o in outs] == [f"p{i}#1" for i in range(8)]
        assert outs[0][1]["usage"] == {
            "prompt_tokens": 1,
            "completion_tokens": 4,
            "total_tokens": 5,
        }
        assert max(fake.batches) > 1  # 8 concurrent HTTP requests did not run one by one
        code, body = post(url + "/completions", {"model": "fake", "prompt": "crash"})
        assert code == 500 and "engine exploded" in body["error"]["message"]
        code, body = post(url + "/completions", {"model": "fake", "prompt": "after"})
        assert code == 200 and body["choices"][0]["text"] == "after#0"
