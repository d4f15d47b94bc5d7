"""metamath.train.attention: document-masked attention for packed rows ("varlen").

On CPU the function runs its per-document SDPA path; the CUDA kernel (PyTorch's varlen flash
attention) is checked against that path by the gpu-marked tests and by varlen_kernel_check."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from metamath.train import attention  # noqa: E402
from metamath.train.format import collate_packed  # noqa: E402
from metamath.train.model import pick_attention  # noqa: E402


def _dense(q, k, v, cu, window=None):
    """Attention over the whole flat sequence with an explicit block-diagonal causal mask."""
    n = q.shape[0]
    doc = torch.zeros(n, dtype=torch.long)
    for i, (s, e) in enumerate(zip(cu[:-1], cu[1:], strict=True)):
        doc[s:e] = i
    idx = torch.arange(n)
    d = idx[:, None] - idx[None, :]
    mask = (doc[:, None] == doc[None, :]) & (d >= 0)
    if window:
        mask &= d < window
    rep = q.shape[1] // k.shape[1]
    k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
    return torch.nn.functional.scaled_dot_product_attention(
        q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), attn_mask=mask
    ).transpose(0, 1)


@pytest.mark.parametrize("window", [None, 5])
def test_per_document_path_equals_a_dense_block_diagonal_mask(window):
    g = torch.Generator().manual_seed(0)
    q = torch.randn(30, 4, 8, generator=g)
    k, v = torch.randn(30, 2, 8, generator=g), torch.randn(30, 2, 8, generator=g)
    cu = [0, 7, 8, 21, 30]  # a one-token document included
    out = attention._reference(q, k, v, cu, None, window)
    assert (out - _dense(q, k, v, cu, window)).abs().max().item() < 1e-5


def test_forward_reads_boundaries_and_defaults_to_one_sequence_per_row():
    g = torch.Generator().manual_seed(1)
    b, h, t, d = 2, 4, 12, 8
    q, k, v = (torch.randn(b, h, t, d, generator=g) for _ in range(3))
    flat = [x.transpose(1, 2).reshape(b * t, h, d) for x in (q, k, v)]
    batch = collate_packed([([1] * 5, 1), ([1] * 7, 1), ([1] * 12, 1)], row_tokens=12, varlen=True)
    starts = (batch["position_ids"].reshape(-1) == 0).nonzero().view(-1).tolist()
    assert batch["cu_seq_lens_q"].tolist() == starts + [b * t] and len(starts) == 3
    assert batch["max_length_q"] == 12
    out, _ = attention.varlen_attention_forward(
        None, q, k, v, None, cu_seq_lens_q=batch["cu_seq_lens_q"], max_length_q=12
    )
    assert out.shape == (b, t, h, d)
    want = _dense(*flat, starts + [b * t]).view(b, t, h, d)
    assert (out - want).abs().max().item() < 1e-5
    rows, _ = attention.varlen_attention_forward(None, q, k, v, None)  # no boundaries
    assert (rows - _dense(*flat, [0, 12, 24]).view(b, t, h, d)).abs().max().item() < 1e-5


def test_collate_gives_padding_its_own_document():
    b = collate_packed([([1] * 4, 1), ([1] * 3, 1), ([1] * 5, 1)], row_tokens=7, varlen=True)
    # rows (longest first): [5 + 2 padding], [4 + 3]
    assert b["input_ids"].shape == (2, 7)
    assert b["cu_seq_lens_q"].dtype == torch.int32
    assert b["cu_seq_lens_q"].tolist() == [0, 5, 7, 11, 14]
    starts = (b["position_ids"].reshape(-1) == 0).nonzero().view(-1).tolist()
    assert starts == [0, 5, 7, 11]


def test_unsupported_features_are_refused_with_the_alternative():
    x = torch.zeros(1, 2, 3, 4)
    with pytest.raises(ValueError, match="attn_implementation=sdpa"):
        attention.varlen_attention_forward(None, x, x, x, None, dropout=0.1)
    with pytest.raises(ValueError, match="soft-capping"):
        attention.varlen_attention_forward(None, x, x, x, None, softcap=30.0)


def test_pick_attention():
    from transformers import Gemma2Config, GPT2Config, LlamaConfig

    assert pick_attention("varlen", "cpu") == attention.NAME
    assert pick_attention("auto", "cpu") == attention.NAME
    assert pick_attention("auto", "cpu", LlamaConfig()) == attention.NAME
    # soft-capped logits (Gemma 2), attention dropout, an unlisted family: auto keeps sdpa
    assert pick_attention("auto", "cpu", Gemma2Config()) == "sdpa"
    assert pick_attention("auto", "cpu", LlamaConfig(attention_dropout=0.1)) == "sdpa"
    assert pick_attention("auto", "cpu", GPT2Config()) == "sdpa"


def test_flash_attn_where_installed_comes_first_for_every_family(monkeypatch):
    import importlib.util

    from transformers import Gemma2Config, LlamaConfig

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: object() if name == "flash_attn" else real(name, *a),
    )
    for config in (LlamaConfig(), Gemma2Config(), None):
        assert pick_attention("auto", "cuda", config) == "flash_attention_2"
    assert pick_attention("auto", "cpu", LlamaConfig()) == attention.NAME


def test_boundaries_that_do_not_cover_the_batch_are_an_error():
    x = torch.zeros(1, 2, 10, 4)
    with pytest.raises(ValueError, match="do not cover"):
        attention.varlen_attention_forward(
            None, x, x, x, None, cu_seq_lens_q=torch.tensor([0, 4, 8])
        )
    assert pick_attention("eager", "cuda") == "eager"
    from transformers import AttentionInterface

    assert attention.NAME in AttentionInterface._global_mapping


def test_kernel_check_says_why_without_cuda():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present; the gpu tests cover the kernel")
    ok, why = attention.varlen_kernel_check()
    assert not ok and why


@pytest.mark.gpu
def test_cuda_kernel_matches_the_reference():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    ok, why = attention.varlen_kernel_check()
    assert ok, why


@pytest.mark.gpu
def test_cuda_packed_varlen_loss_equals_padded_sdpa(tiny_model_dir):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    from metamath.train.format import collate_padded

    tok = transformers.AutoTokenizer.from_pretrained(tiny_model_dir)
    texts = ["Tom has 3 apples and buys 4 more.", "What is 12 times 7?", "Half of 90 is 45."]
    ex = [(tok(t)["input_ids"] + [tok.eos_token_id], 3) for t in texts]
    n = sum(len(x) - 3 for x, _ in ex)
    losses = {}
    for name, batch in (
        ("varlen", collate_packed(ex, tok.pad_token_id, 0, True)),
        ("sdpa", collate_padded(ex, tok.pad_token_id)),
    ):
        impl = attention.register() if name == "varlen" else "sdpa"
        m = transformers.AutoModelForCausalLM.from_pretrained(
            tiny_model_dir, attn_implementation=impl, dtype=torch.bfloat16
        ).cuda()
        b = {k: v.cuda() if hasattr(v, "cuda") else v for k, v in batch.items()}
        with torch.no_grad():
            losses[name] = m(**b, num_items_in_batch=n, use_cache=False).loss.item()
    assert abs(losses["varlen"] - losses["sdpa"]) < 2e-2, losses


def _fake_kernels():
    """Stand-ins with the two varlen_attn signatures (torch 2.10; torch >= 2.11), computing
    with the reference path, to check the argument translation in _call_kernel."""

    def v210(query, key, value, cu_seq_q, cu_seq_k, max_q, max_k, is_causal=False, return_aux=None):
        assert is_causal and query.shape[1] == key.shape[1]
        return attention._reference(query, key, value, cu_seq_q.tolist(), None, None)

    def v211(
        query,
        key,
        value,
        cu_seq_q,
        cu_seq_k,
        max_q,
        max_k,
        *,
        return_aux=None,
        scale=None,
        window_size=(-1, -1),
        enable_gqa=False,
    ):
        assert window_size[1] == 0 and (enable_gqa or query.shape[1] == key.shape[1])
        left = window_size[0]
        return attention._reference(
            query, key, value, cu_seq_q.tolist(), scale, left + 1 if left >= 0 else None
        )

    return {"2.10": v210, "2.11": v211}


@pytest.mark.parametrize("version", ["2.10", "2.11"])
@pytest.mark.parametrize("window", [None, 4])
def test_kernel_arguments_across_torch_versions(monkeypatch, version, window):
    monkeypatch.setattr(attention, "_kernel", lambda: _fake_kernels()[version])
    g = torch.Generator().manual_seed(2)
    q = torch.randn(20, 4, 8, generator=g)
    k, v = torch.randn(20, 2, 8, generator=g), torch.randn(20, 2, 8, generator=g)
    cu = torch.tensor([0, 9, 20], dtype=torch.int32)
    out = attention._call_kernel(q, k, v, cu, 11, 0.2, window)  # GQA and a non-default scale
    want = attention._reference(q, k, v, [0, 9, 20], 0.2, window)
    assert (out - want).abs().max().item() < 1e-5


def test_autocast_runs_attention_in_the_autocast_dtype():
    # fp32 weights + bf16 autocast: q and k come out of the rotary embedding in fp32, v in bf16
    g = torch.Generator().manual_seed(3)
    q, k = torch.randn(1, 4, 10, 8, generator=g), torch.randn(1, 2, 10, 8, generator=g)
    v = torch.randn(1, 2, 10, 8, generator=g)
    want, _ = attention.varlen_attention_forward(None, q, k, v, None)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, _ = attention.varlen_attention_forward(None, q, k, v.bfloat16(), None)
    assert out.dtype == torch.bfloat16
    assert (out.float() - want).abs().max().item() < 5e-2


def test_kernel_check_compares_outputs_and_gradients(monkeypatch):
    import functools

    good = _fake_kernels()["2.11"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    check = attention.varlen_kernel_check.__wrapped__  # uncached; runs on the CPU here
    monkeypatch.setattr(attention, "_kernel", lambda: good)
    assert check("cpu") == (True, "ok")
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):  # as inside a forward
        assert check("cpu") == (True, "ok")

    @functools.wraps(good)
    def wrong_output(*a, **k):
        return good(*a, **k) * 1.1

    class _WrongGrad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g * 0.5

    @functools.wraps(good)
    def wrong_grad(q, *a, **k):
        return good(_WrongGrad.apply(q), *a, **k)

    @functools.wraps(good)
    def no_window(*a, window_size=(-1, -1), **k):  # ignores the sliding window
        return good(*a, window_size=(-1, window_size[1]), **k)

    for bad, what in ((wrong_output, "output"), (wrong_grad, "dq"), (no_window, "window 5")):
        monkeypatch.setattr(attention, "_kernel", lambda bad=bad: bad)
        ok, why = check("cpu")
        assert not ok and what in why, why


def test_generation_with_a_kv_cache_is_refused():
    q, kv = torch.zeros(1, 2, 1, 4), torch.zeros(1, 2, 9, 4)  # one new token, nine cached
    with pytest.raises(ValueError, match="set_attn_implementation"):
        attention.varlen_attention_forward(None, q, kv, kv, None)
