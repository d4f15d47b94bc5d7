"""Liger's kernels go on the trained model instance only, never on transformers' modules.

Patching needs no GPU (only running the Triton kernels does), so this runs on CPU wherever
liger-kernel is installed (the dev extra installs it). The GPU run with Liger is
tests/test_train_run.py::test_cuda_trainer_varlen_and_liger_match_sdpa."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from metamath.train.config import load_train_config  # noqa: E402
from metamath.train.model import _apply_liger, liger_applies  # noqa: E402


def _tiny_llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(
        vocab_size=128,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
    )
    return LlamaForCausalLM(cfg)


def test_liger_patches_the_instance_and_leaves_later_models_alone():
    pytest.importorskip("liger_kernel.transformers", reason="liger-kernel is not installed")
    from transformers.models.llama import modeling_llama as ml

    names = ("LlamaRMSNorm", "LlamaMLP", "apply_rotary_pos_emb")
    before = {n: getattr(ml, n) for n in names}
    class_forward = ml.LlamaForCausalLM.forward
    model = _tiny_llama()
    _apply_liger(model)
    # the instance has Liger's RMSNorm, SwiGLU and fused linear cross-entropy forward ...
    assert model.model.norm.forward.__func__.__qualname__ == "LigerRMSNorm.forward"
    assert model.model.layers[0].mlp.forward.__func__.__qualname__ == "LigerSwiGLUMLP.forward"
    assert model.forward.__func__.__module__.startswith("liger_kernel")
    # ... and transformers' modules and classes are as they were
    assert {n: getattr(ml, n) for n in names} == before
    assert ml.LlamaForCausalLM.forward is class_forward
    fresh = _tiny_llama()
    assert fresh.model.norm.forward.__func__ is before["LlamaRMSNorm"].forward
    assert fresh.model.layers[0].mlp.forward.__func__ is before["LlamaMLP"].forward
    assert fresh.forward.__func__ is class_forward


def test_liger_applies_on_cuda_only_and_not_with_compile(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: object() if name == "liger_kernel" else real(name, *a),
    )
    cfg = load_train_config(None, ["model=m", "data.path=d.jsonl"])
    assert liger_applies(cfg, "cuda")
    assert not liger_applies(cfg, "cpu")
    assert not liger_applies(
        load_train_config(None, ["model=m", "data.path=d.jsonl", "compile=true"]), "cuda"
    )
    assert not liger_applies(
        load_train_config(None, ["model=m", "data.path=d.jsonl", "liger=false"]), "cuda"
    )
