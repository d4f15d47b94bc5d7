"""The openai backend against real servers started here on 127.0.0.1 with the tiny model:
`metamath serve` (ours; honours n) and `transformers serve` (nobody here wrote it; it ignores n,
so the backend must notice and fan out)."""

from __future__ import annotations

import shutil
import sys

import pytest

from _servers import free_port, running_server
from metamath.llm.base import Request
from metamath.llm.openai_compat import OpenAILLM


def _check(llm: OpenAILLM) -> dict:
    reqs = [
        Request(
            id="p",
            prompt="Question: 1 + 1 = ?\nAnswer:",
            n=3,
            temperature=0.8,
            max_tokens=8,
            seed=1,
        ),
        Request(
            id="c",
            messages=({"role": "user", "content": "What is 2 + 2?"},),
            n=2,
            temperature=0.8,
            max_tokens=8,
            seed=2,
        ),
        Request(id="g", prompt="Greedy:", max_tokens=4),
    ]
    res = {r.request.id: r for r in llm.generate(reqs)}
    for rid, n in (("p", 3), ("c", 2), ("g", 1)):
        r = res[rid]
        assert r.ok, r.error
        assert [c.index for c in r.completions] == list(range(n))
        assert all(
            isinstance(c.text, str) and c.finish_reason in ("stop", "length") for c in r.completions
        )
        assert r.completions[0].prompt_tokens > 0
        assert sum(c.completion_tokens for c in r.completions) > 0
    s = llm.stats
    assert s["samples"] == 6 and s["failures"] == 0 and s["prompt_tokens"] > 0
    return s


@pytest.mark.slow  # 15-40 s on 2 busy cores, most of it the server importing torch
def test_against_metamath_serve(tiny_model_dir, tmp_path):
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "metamath",
        "serve",
        str(tiny_model_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--device",
        "cpu",
    ]
    with open(tmp_path / "serve.log", "w") as log, running_server(cmd, port, log) as url:
        llm = OpenAILLM(str(tiny_model_dir), base_url=url, progress=False, timeout=120)
        s = _check(llm)
    assert s["requests"] == 3 and s["fanned_out"] == 0  # n honoured: one request per Request


@pytest.mark.slow
def test_against_transformers_serve_which_ignores_n(tiny_model_dir, tmp_path):
    exe = shutil.which("transformers")
    if exe is None:
        pytest.skip("transformers CLI not installed (pip install 'transformers[serving]')")
    port = free_port()
    cmd = [exe, "serve", "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    with open(tmp_path / "serve.log", "w") as log, running_server(cmd, port, log) as url:
        llm = OpenAILLM(str(tiny_model_dir), base_url=url, progress=False, timeout=120)
        s = _check(llm)
        # It answered one choice to n=3 and n=2: the missing 2 + 1 samples were fanned out.
        assert s["fanned_out"] >= 3 and s["requests"] == 6
        assert llm._honours_n[url] is False
