"""The recipes in configs/train load, carry the paper's hyper-parameters, and the accelerate
launch configs are accepted by accelerate's own config loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from metamath.train.config import load_train_config

CONF = Path(__file__).resolve().parent.parent / "configs" / "train"


@pytest.mark.parametrize("name", sorted(p.name for p in CONF.glob("*.yaml")))
def test_every_recipe_loads(name):
    cfg = load_train_config(CONF / name)
    assert cfg.model and cfg.data.path


@pytest.mark.parametrize(
    "name,lr",
    [("llama2_7b_full.yaml", 2e-5), ("llama2_13b_full.yaml", 2e-5), ("mistral_7b_full.yaml", 5e-6)],
)
def test_full_finetune_recipes_match_the_paper(name, lr):
    c = load_train_config(CONF / name)
    assert (c.lr, c.epochs, c.global_batch_size, c.warmup_ratio, c.scheduler, c.max_length) == (
        lr,
        3.0,
        128,
        0.03,
        "cosine",
        512,
    )
    assert c.global_batch_size % (c.micro_batch_size * 8) == 0  # fits 8 GPUs exactly
    assert c.mixed_precision == "bf16" and not c.lora.enabled


def test_70b_qlora_recipe_matches_the_paper():
    c = load_train_config(CONF / "llama2_70b_qlora.yaml")
    assert c.lora.enabled and c.lora.quantize_4bit
    assert (c.lora.r, c.lora.alpha, c.lora.dropout, c.lr, c.warmup_steps) == (96, 16, 0.05, 1e-4, 0)
    assert {"q_proj", "v_proj", "gate_proj", "down_proj"} <= set(c.lora.target_modules)


@pytest.mark.parametrize(
    "name,kind",
    [
        ("fsdp_8gpu.yaml", "FSDP"),
        ("fsdp_multinode.yaml", "FSDP"),
        ("fsdp_qlora_8gpu.yaml", "FSDP"),
        ("deepspeed_zero3.yaml", "DEEPSPEED"),
    ],
)
def test_accelerate_configs_parse(name, kind):
    pytest.importorskip("accelerate")
    from accelerate.commands.config.config_args import ClusterConfig

    c = ClusterConfig.from_yaml_file(CONF / "accelerate" / name)
    assert str(c.distributed_type).endswith(kind)
    assert c.num_processes == (16 if "multinode" in name else 8)
