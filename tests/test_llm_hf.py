"""The hf backend on the tiny random Llama: batching, padding, sampling, stops, chat, OOM backoff."""

from __future__ import annotations

import pytest

from metamath.llm.base import LLM, Request, generate_all

pytest.importorskip("torch")
pytest.importorskip("transformers")

PROMPTS = [
    "Question: Tom has 3 apples and buys 5 more.",
    "Find x",
    "Below is an instruction that describes a task. Write a response that appropriately",
    "#### 72",
]


@pytest.fixture(scope="module")
def llm(tiny_model_dir):
    from metamath.llm.hf import HFLLM

    return HFLLM(str(tiny_model_dir), batch_size=8)


def texts(res):
    return [c.text for c in res.completions]


def test_is_an_llm(llm):
    assert isinstance(llm, LLM)
    assert llm.device.type == "cpu" and str(llm.hf_model.dtype) == "torch.float32"


def test_batched_greedy_equals_unbatched(llm):
    """Left padding is correct: a prompt padded inside a batch decodes as it does alone."""
    reqs = [Request(id=str(i), prompt=p, max_tokens=16) for i, p in enumerate(PROMPTS)]
    together = generate_all(llm, reqs)
    for r in reqs:
        alone = generate_all(llm, [r])[r.id]
        assert texts(alone) == texts(together[r.id])
        c = together[r.id].completions[0]
        assert c.prompt_tokens == len(llm.encode(r)) and c.completion_tokens > 0


def test_n_samples_seeded_and_reproducible(llm):
    r = Request(id="s", prompt=PROMPTS[0], n=4, temperature=1.0, seed=7, max_tokens=12)
    a = generate_all(llm, [r])["s"]
    assert [c.index for c in a.completions] == [0, 1, 2, 3]
    assert len(set(texts(a))) > 1  # four different samples
    # same seed -> same samples, whatever else shares the batch
    others = [
        Request(id=f"o{i}", prompt=p, temperature=1.0, max_tokens=12) for i, p in enumerate(PROMPTS)
    ]
    b = generate_all(llm, [*others, r])["s"]
    assert texts(a) == texts(b)
    # sample i does not depend on n
    assert (
        texts(
            generate_all(
                llm,
                [Request(id="s", prompt=PROMPTS[0], n=2, temperature=1.0, seed=7, max_tokens=12)],
            )["s"]
        )
        == texts(a)[:2]
    )
    c = generate_all(
        llm, [Request(id="s", prompt=PROMPTS[0], n=4, temperature=1.0, seed=8, max_tokens=12)]
    )["s"]
    assert texts(c) != texts(a)


def test_greedy_n_copies(llm):
    res = generate_all(llm, [Request(id="g", prompt=PROMPTS[1], n=3, max_tokens=8)])["g"]
    assert len(set(texts(res))) == 1 and [c.index for c in res.completions] == [0, 1, 2]


def test_low_temperature_approaches_greedy(llm):
    greedy = generate_all(llm, [Request(id="g", prompt=PROMPTS[2], max_tokens=10)])["g"]
    cold = generate_all(
        llm, [Request(id="g", prompt=PROMPTS[2], temperature=1e-4, seed=1, max_tokens=10)]
    )["g"]
    assert texts(cold) == texts(greedy)


def test_stop_strings_truncate(llm):
    full = generate_all(llm, [Request(id="f", prompt=PROMPTS[0], max_tokens=24)])["f"]
    text = full.completions[0].text
    assert full.completions[0].finish_reason == "length"
    stop = text[8:11]  # a string the model will produce
    cut = generate_all(
        llm, [Request(id="f", prompt=PROMPTS[0], max_tokens=24, stop=("\x00never", stop))]
    )["f"]
    c = cut.completions[0]
    assert c.text == text[: text.find(stop)]
    assert c.finish_reason == "stop" and c.completion_tokens < 24


def test_chat_template_vs_raw(llm):
    msgs = ({"role": "user", "content": "Find x"},)
    chat = Request(id="c", messages=msgs, max_tokens=8)
    assert (
        llm.encode(chat)
        == llm.tokenizer("<|user|>\nFind x</s>\n<|assistant|>\n", add_special_tokens=False)[
            "input_ids"
        ]
    )
    raw = Request(id="r", prompt="Find x", max_tokens=8)
    res = generate_all(llm, [chat, raw])
    assert res["c"].completions[0].prompt_tokens > res["r"].completions[0].prompt_tokens
    assert res["c"].ok and res["r"].ok


def test_too_long_prompt_is_an_error_result(llm):
    r = Request(id="long", prompt="x", max_tokens=10**6)
    res = generate_all(llm, [r, Request(id="ok", prompt="x", max_tokens=4)])
    assert not res["long"].ok and "max_tokens" in res["long"].error
    assert res["ok"].ok


def test_oom_halves_the_batch(tiny_model_dir, monkeypatch):
    from metamath.llm.hf import HFLLM

    llm = HFLLM(str(tiny_model_dir), batch_size=4)
    real, sizes = llm._generate_batch, []

    def flaky(rows, *a):  # a real allocator failure cannot be provoked on CPU in a test
        sizes.append(len(rows))
        if len(rows) > 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(rows, *a)

    monkeypatch.setattr(llm, "_generate_batch", flaky)
    reqs = [Request(id=str(i), prompt=p, max_tokens=4) for i, p in enumerate(PROMPTS)]
    res = generate_all(llm, reqs)
    assert all(r.ok for r in res.values()) and len(res) == 4
    assert sizes[:3] == [4, 2, 1] and llm.batch_size == 1


def test_gumbel_noise_is_uniform_and_keyed():
    import torch

    from metamath.llm.hf_batch import GumbelSampler, row_key

    s = GumbelSampler([row_key(1, 0), row_key(1, 1)], prompt_len=0)
    g = s(torch.zeros((2, 5)), torch.zeros((2, 20000)))
    u = torch.exp(-torch.exp(-g))  # back to uniforms
    assert abs(u.mean().item() - 0.5) < 0.01 and not torch.equal(g[0], g[1])
    # a sample from softmax(logits): frequencies follow the probabilities
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1]]))
    picks = [
        GumbelSampler([row_key(s, 0)], 0)(torch.zeros((1, 1)), logits).argmax().item()
        for s in range(3000)
    ]
    assert abs(picks.count(0) / 3000 - 0.7) < 0.04


def test_static_cache_same_greedy_text(llm, tiny_model_dir):
    """The GPU fast path (static KV cache, equal-sized padded batches) decodes the same text."""
    from metamath.llm.hf import HFLLM

    static = HFLLM(str(tiny_model_dir), batch_size=3, static_cache=True)
    reqs = [Request(id=str(i), prompt=p, max_tokens=12) for i, p in enumerate(PROMPTS)]
    reqs.append(Request(id="s", prompt=PROMPTS[1], n=2, temperature=1.0, seed=4, max_tokens=12))
    a, b = generate_all(llm, reqs), generate_all(static, reqs)
    assert {k: texts(v) for k, v in a.items()} == {k: texts(v) for k, v in b.items()}


@pytest.mark.gpu
def test_cuda_defaults_and_compiled_static_cache(request):
    """On a GPU: auto device/dtype (cuda, bf16); the compiled static-cache path gives the same
    greedy text as the dynamic cache (compared in fp32, where near-ties do not flip)."""
    import torch

    from metamath.llm.hf import HFLLM

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    tiny_model_dir = request.getfixturevalue("tiny_model_dir")
    auto = HFLLM(str(tiny_model_dir))
    assert auto.device.type == "cuda" and auto.hf_model.dtype == torch.bfloat16
    assert auto.max_batch_tokens and auto.max_batch_tokens > 10_000
    reqs = [Request(id=str(i), prompt=p, max_tokens=16) for i, p in enumerate(PROMPTS)]
    assert all(r.ok for r in generate_all(auto, reqs).values())
    dyn = HFLLM(str(tiny_model_dir), dtype="float32", batch_size=3)
    static = HFLLM(str(tiny_model_dir), dtype="float32", batch_size=3, static_cache=True)
    a, b = generate_all(dyn, reqs), generate_all(static, reqs)
    assert {k: texts(v) for k, v in a.items()} == {k: texts(v) for k, v in b.items()}


def _counting(llm):
    """Tokens the model's forward passes compute (all calls), read off the decoder's inputs."""
    seen = [0]

    def hook(module, args, kwargs):
        x = kwargs.get("input_ids")
        seen[0] += (x if x is not None else args[0]).numel()

    llm.hf_model.model.register_forward_pre_hook(hook, with_kwargs=True)
    return seen


@pytest.mark.parametrize("static", [False, True])
def test_shared_prefix_samples_equal_unshared(tiny_model_dir, static):
    """The samples of one prompt prefill it once and decode from copies of its KV cache: the text
    is the same token for token as when every row prefills its own copy (sampled and greedy,
    dynamic and static cache), with other prompts in the same batch."""
    from metamath.llm.hf import HFLLM

    reqs = [
        Request(id=f"s{i}", prompt=p, n=5, temperature=0.7, top_p=0.95, seed=i, max_tokens=12)
        for i, p in enumerate(PROMPTS)
    ]
    reqs += [Request(id=f"g{i}", prompt=PROMPTS[2], max_tokens=12) for i in range(3)]  # greedy
    out = {}
    for share in (False, True):
        llm = HFLLM(str(tiny_model_dir), batch_size=16, static_cache=static, share_prefix=share)
        out[share] = {k: texts(v) for k, v in generate_all(llm, reqs).items()}
    assert out[True] == out[False]
    assert len(set(out[True]["s0"])) > 1 and out[True]["g0"] == out[True]["g2"]


def test_shared_prefix_prefills_each_prompt_once(tiny_model_dir):
    """k samples of a prompt of W tokens: W*k prefill tokens unshared; W-1 once plus the last
    prompt token per sample shared (that token's forward produces each row's first new token).
    max_tokens=1, so every forward token counted is prefill work."""
    from metamath.llm.hf import HFLLM

    prompt = " ".join(PROMPTS * 6)
    k, counts = 10, {}
    for share in (False, True):
        llm = HFLLM(str(tiny_model_dir), share_prefix=share)
        seen = _counting(llm)
        r = Request(id="a", prompt=prompt, n=k, temperature=0.7, top_p=0.95, seed=3, max_tokens=1)
        assert generate_all(llm, [r])["a"].ok
        counts[share] = seen[0]
    width = len(llm.encode(r))
    assert width > 100
    assert counts[False] == k * width
    assert counts[True] == (width - 1) + k
    assert counts[False] / counts[True] > 0.9 * k  # ~k-fold for prompts much longer than k


def test_continuous_batching_same_greedy_text(llm, tiny_model_dir, caplog):
    """transformers' continuous batching (a finished row's slot refilled at once) decodes the same
    greedy text as the batched path, stop strings cut to the same token; sampled rows stay on the
    batched path (keyed noise), and each choice is logged."""
    import logging

    from metamath.llm.hf import HFLLM

    cont = HFLLM(str(tiny_model_dir), batch_size=2, continuous=True)
    reqs = [Request(id=str(i), prompt=p, max_tokens=14) for i, p in enumerate(PROMPTS)]
    reqs.append(Request(id="n", prompt=PROMPTS[0], n=3, max_tokens=14))
    full = texts(generate_all(llm, [reqs[1]])["1"])[0]
    reqs.append(Request(id="stop", prompt=PROMPTS[1], max_tokens=14, stop=(full[6:9],)))
    reqs.append(Request(id="s", prompt=PROMPTS[2], n=2, temperature=1.0, seed=5, max_tokens=10))
    with caplog.at_level(logging.INFO, logger="metamath.llm.hf"):
        a, b = generate_all(llm, reqs), generate_all(cont, reqs)
    assert {k: texts(v) for k, v in a.items()} == {k: texts(v) for k, v in b.items()}
    for k in a:
        assert [c.completion_tokens for c in a[k].completions] == [
            c.completion_tokens for c in b[k].completions
        ]
        assert [c.finish_reason for c in a[k].completions] == [
            c.finish_reason for c in b[k].completions
        ]
    assert b["stop"].completions[0].finish_reason == "stop"
    assert [p for p, _ in cont.paths] == ["continuous", "continuous", "dynamic"]
    assert "sampled rows keep the keyed noise" in cont.paths[-1][1]
    assert "continuous (continuous=True)" in caplog.text
    assert [p for p, _ in llm.paths][-3:] == ["dynamic"] * 3  # auto on CPU


def test_pad_that_is_also_eos_is_counted_only_when_generated(llm):
    """ChatML models use one token as EOS and pad: a genuine end of sequence is a generated
    token (counted), the pad generate() adds after a stop string is not."""
    from types import SimpleNamespace

    from metamath.llm.hf_batch import Row, completion

    tok = llm.tokenizer
    pad = tok.pad_token_id
    chatml = SimpleNamespace(eos_ids={pad}, tokenizer=tok)  # pad == EOS, as in SmolLM2
    row = Row(req=0, index=0, ids=[1, 2, 3], key=None)
    words = tok.encode("one two STOP", add_special_tokens=False)
    stopped = completion(chatml, row, [*words, pad, pad], 16, ("STOP",))
    assert stopped.finish_reason == "stop" and stopped.completion_tokens == len(words)
    assert "STOP" not in stopped.text
    words = tok.encode("one two", add_special_tokens=False)
    ended = completion(chatml, row, [*words, pad, pad], 16, ("STOP",))
    assert ended.finish_reason == "stop" and ended.completion_tokens == len(words) + 1
