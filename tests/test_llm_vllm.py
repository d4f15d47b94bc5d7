"""The vllm backend: Request <-> vLLM mapping everywhere; the engine itself where vLLM and a GPU are."""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import pytest

from metamath.llm.base import Request
from metamath.llm.vllm import INSTALL, sampling_kwargs, to_result

HAS_VLLM = importlib.util.find_spec("vllm") is not None


def test_sampling_kwargs():
    r = Request(
        id="a",
        prompt="p",
        n=4,
        temperature=0.7,
        top_p=0.9,
        max_tokens=64,
        stop=("\n\n", "Question:"),
        seed=3,
    )
    assert sampling_kwargs(r) == {
        "n": 4,
        "temperature": 0.7,
        "top_p": 0.9,
        "max_tokens": 64,
        "stop": ["\n\n", "Question:"],
        "seed": 3,
    }
    assert sampling_kwargs(Request(id="b", prompt="p"))["stop"] is None


def _out(*samples, prompt_ids=(1, 2, 3)):
    # The shape of vllm.outputs.RequestOutput / CompletionOutput (only the fields we read).
    return SimpleNamespace(
        prompt_token_ids=list(prompt_ids),
        outputs=[
            SimpleNamespace(index=i, text=t, token_ids=list(range(k)), finish_reason=f)
            for i, t, k, f in samples
        ],
    )


def test_to_result():
    r = Request(id="a", prompt="p", n=2, temperature=1.0)
    res = to_result(r, _out((1, "b", 5, "length"), (0, "a", 2, "stop")))
    assert res.ok and [c.text for c in res.completions] == ["a", "b"]
    assert [(c.prompt_tokens, c.completion_tokens, c.finish_reason) for c in res.completions] == [
        (3, 2, "stop"),
        (3, 5, "length"),
    ]
    assert "abort" in to_result(r, _out((0, "a", 2, "abort"), (1, "b", 1, "stop"))).error
    assert "1 of 2" in to_result(r, _out((0, "a", 2, "stop"))).error


@pytest.mark.skipif(HAS_VLLM, reason="vLLM is installed here")
def test_missing_vllm_names_the_fix():
    from metamath.llm.vllm import VLLMLLM

    with pytest.raises(ImportError, match=r"pip install \"metamath\[vllm\]\""):
        VLLMLLM("any-model")
    assert "pip install" in INSTALL


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_VLLM, reason="vLLM is not installed (optional extra metamath[vllm])")
def test_vllm_engine_on_tiny_model(tiny_model_dir):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a CUDA GPU")
    from metamath.llm.base import generate_all
    from metamath.llm.vllm import VLLMLLM

    llm = VLLMLLM(str(tiny_model_dir), gpu_memory_utilization=0.3, max_model_len=512)
    reqs = [
        Request(id="g", prompt="Find x", max_tokens=8),
        Request(id="s", prompt="Find x", n=3, temperature=1.0, seed=1, max_tokens=8),
        Request(id="c", messages=({"role": "user", "content": "Find x"},), max_tokens=8),
    ]
    res = generate_all(llm, reqs)
    assert all(r.ok for r in res.values()) and len(res["s"].completions) == 3
    again = generate_all(llm, reqs[1:2])["s"]
    assert [c.text for c in again.completions] == [c.text for c in res["s"].completions]
