"""Load the model and tokenizer for training (full, LoRA or QLoRA), and save the result.

Attention (`attn_implementation`, default auto): on CUDA, flash_attention_2 where the flash-attn
package is installed, else PyTorch's own varlen flash kernel (`varlen`, metamath.train.attention)
once it passes a self-check, else SDPA with transformers' block-diagonal document mask. On CPU:
varlen (its exact per-document SDPA path). Any name transformers knows ("flex_attention",
"eager") can be set in the config.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from metamath.io import follow_umask
from metamath.models import resolve_model
from metamath.train.config import TrainConfig

_DTYPES = {"float32": "float32", "bfloat16": "bfloat16", "float16": "float16", "auto": "auto"}
# Dense bf16 peak TFLOP/s for MFU (vendor data sheets), matched against the device name.
PEAK_TFLOPS = {
    "H200": 989.0,
    "H100": 989.0,
    "H800": 989.0,
    "A100": 312.0,
    "A800": 312.0,
    "L40S": 362.0,
    "A10G": 70.0,
    "4090": 165.0,
    "B200": 2250.0,
}


def pick_attention(name: str, device_type: str, model_config: Any = None) -> str:
    """The attn_implementation to load the model with ("varlen" is registered as
    metamath.train.attention.NAME). model_config: for auto, varlen is chosen only for models
    whose attention it computes exactly (attention.supports)."""
    from metamath.train import attention

    if name == "varlen":
        return attention.register()
    if name != "auto":
        return name
    if device_type == "cuda" and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    if model_config is not None and not attention.supports(model_config):
        return "sdpa"
    if device_type != "cuda":
        # the per-document SDPA path: exact, and about 3x the tokens/s of the dense block-diagonal
        # mask on the tiny model (benchmarks/train_throughput.py --tiny)
        return attention.register()
    import torch

    # keyed like the forward's own check (str(q.device), "cuda:N"), so it runs once per device
    ok, why = attention.varlen_kernel_check(f"cuda:{torch.cuda.current_device()}")
    if ok:
        return attention.register()
    logging.getLogger(__name__).warning(
        "attn_implementation=auto: PyTorch's varlen flash kernel is not usable (%s); packed rows "
        "use SDPA with a block-diagonal mask, which is slower",
        why,
    )
    return "sdpa"


def _liger_wanted(cfg: TrainConfig, device_type: str) -> bool:
    """liger=true, on CUDA (Liger's kernels are Triton), with the package installed."""
    return bool(cfg.liger and device_type == "cuda" and importlib.util.find_spec("liger_kernel"))


def liger_applies(cfg: TrainConfig, device_type: str) -> bool:
    """Liger's kernels patch the model where wanted, unless compile is on: TorchDynamo fails on
    Liger's RMSNorm autograd function (measured with torch 2.11 and liger-kernel 0.8.5 on an
    H200), and at 7B Liger gave more than compiling did."""
    return _liger_wanted(cfg, device_type) and not cfg.compile


def _apply_liger(model: Any) -> None:
    """Liger's kernels on this model instance only.

    Liger's apply functions also rebind names in transformers' modeling modules (the RMSNorm and MLP
    classes, the rotary function) even when given an instance, so every model built later in the
    process (a `liger: false` run, an evaluation model) would silently get them too. The instance's
    modules are patched in place and keep the kernels; the module-level names are put back. The
    rotary kernel exists only as such a module-level name, so it is not used (rope=False)."""
    import sys

    from liger_kernel.transformers import _apply_liger_kernel_to_instance

    mods = {
        n: m
        for n, m in list(sys.modules.items())
        if n.startswith("transformers.models.") and m is not None
    }
    before = {n: dict(vars(m)) for n, m in mods.items()}
    _apply_liger_kernel_to_instance(model=model, rope=False)
    for n, m in mods.items():
        for k, v in before[n].items():
            if vars(m).get(k) is not v:
                setattr(m, k, v)


def load_tokenizer(cfg: TrainConfig) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(resolve_model(cfg.model, "model"))
    if tok.eos_token is None:
        raise ValueError(
            f"model={cfg.model}: its tokenizer has no EOS token, which training "
            "needs to teach the model to stop"
        )
    if tok.pad_token is None:
        # Padding positions are masked (attention 0, label -100), so any id will do; reusing EOS
        # keeps the vocabulary (and the embedding matrix) unchanged, unlike the original's
        # added "[PAD]" (vocab 32001).
        tok.pad_token = tok.eos_token
    return tok


def load_model(cfg: TrainConfig, device_type: str, init_device: Any = None) -> Any:
    """The causal LM ready to train: dtype, attention, gradient checkpointing, LoRA/QLoRA, Liger.
    init_device: where random weights are built (the GPU itself, where nothing shards them)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    path = resolve_model(cfg.model, "model")  # a .gguf file: its converted checkpoint
    config = AutoConfig.from_pretrained(path)
    kw: dict[str, Any] = {
        "attn_implementation": pick_attention(cfg.attn_implementation, device_type, config)
    }
    dtype = _DTYPES[cfg.model_dtype]
    kw["dtype"] = dtype if dtype == "auto" else getattr(torch, dtype)
    if cfg.lora.quantize_4bit:
        kw["quantization_config"] = _bnb_config()
        kw["dtype"] = torch.bfloat16
        if init_device is not None and getattr(init_device, "type", "") == "cuda":
            # 4-bit weights are quantised where they load; accelerate will not move them later.
            # Under FSDP (init_device None) each rank loads on CPU and FSDP shards.
            kw["device_map"] = {"": init_device.index or 0}
    if cfg.model_init == "random":
        kw.pop("quantization_config", None)
        with torch.device(init_device or "cpu"):
            model = AutoModelForCausalLM.from_config(config, **kw)
    else:
        model = AutoModelForCausalLM.from_pretrained(path, **kw)
    if liger_applies(cfg, device_type):
        _apply_liger(model)
    elif _liger_wanted(cfg, device_type):  # wanted but not applied: compile is on
        logging.getLogger(__name__).warning(
            "compile=true: Liger kernels are not used (TorchDynamo cannot trace them); "
            "compile=false uses them"
        )
    if cfg.lora.enabled:
        model = _add_lora(model, cfg)
    if cfg.gradient_checkpointing:
        # newer transformers name it activation_checkpointing_enable (the old name warns)
        if hasattr(model, "activation_checkpointing_enable"):
            model.activation_checkpointing_enable(
                activation_checkpointing_kwargs={"use_reentrant": False}
            )
        else:
            model.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs={"use_reentrant": False}
            )
        if cfg.lora.enabled:
            model.enable_input_require_grads()
    return model


def _bnb_config() -> Any:
    if importlib.util.find_spec("bitsandbytes") is None:
        raise RuntimeError(
            "lora.quantize_4bit=true (QLoRA) needs bitsandbytes and a CUDA GPU: "
            "pip install bitsandbytes"
        )
    import torch
    from transformers import BitsAndBytesConfig

    # QLoRA defaults (Dettmers et al. 2023): NF4, double quantisation, bf16 compute; storage in
    # bf16 so FSDP can shard the quantised weights alongside bf16 ones.
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
        bnb_4bit_quant_storage=torch.bfloat16,
    )


def _add_lora(model: Any, cfg: TrainConfig) -> Any:
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if cfg.lora.quantize_4bit:
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=cfg.gradient_checkpointing
        )
    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    missing = [t for t in cfg.lora.target_modules if t not in names]
    if missing:
        raise ValueError(
            f"lora.target_modules: {missing} not found in {cfg.model}; "
            f"linear layers it has include {sorted(n for n in names if 'proj' in n)}"
        )
    lc = LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=list(cfg.lora.target_modules),
        task_type="CAUSAL_LM",
    )
    with _peft_reads_deprecated_alias():
        return get_peft_model(model, lc)


@contextlib.contextmanager
def _peft_reads_deprecated_alias() -> Iterator[None]:
    """peft (0.21, the newest release) builds every PeftModel with
    `getattr(model, "is_gradient_checkpointing", True)`, a property transformers 5 deprecated
    for `is_activation_checkpointing`: a FutureWarning from peft's line on each get_peft_model
    and PeftModel.from_pretrained. Our own code uses activation_checkpointing_enable; only that
    one message, raised inside these calls, is silenced (any other warning still shows)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning
        )
        yield


def peak_flops(device: Any, override_tflops: float = 0.0) -> float | None:
    """Peak dense bf16 FLOP/s of the device for MFU, or None where unknown (CPU)."""
    if override_tflops > 0:
        return override_tflops * 1e12
    if getattr(device, "type", str(device)) != "cuda":
        return None
    import torch

    name = torch.cuda.get_device_name(device)
    for key, tf in PEAK_TFLOPS.items():
        if key in name:
            return tf * 1e12
    return None


def save_final(
    accelerator: Any, model: Any, tok: Any, cfg: TrainConfig, run_dir: Path, merge: bool = True
) -> dict:
    """Hugging Face format: run_dir/model (full fine-tune, or LoRA merged on request) and
    run_dir/adapter (LoRA). merge=False skips the LoRA merge (checkpoints). Returns the paths
    written."""
    out: dict[str, str] = {}
    state = accelerator.get_state_dict(model)  # gathers FSDP / ZeRO-3 shards on rank 0
    unwrapped = accelerator.unwrap_model(model)
    if not accelerator.is_main_process:
        return out
    if state is not None and cfg.compile:
        # regional compilation wraps each block in an OptimizedModule: its "_orig_mod." prefix
        # is not part of the model's own parameter names
        state = {
            k.replace("._orig_mod.", ".").removeprefix("_orig_mod."): v for k, v in state.items()
        }
    if cfg.lora.enabled:
        adapter = run_dir / "adapter"
        unwrapped.save_pretrained(adapter, state_dict=state)
        tok.save_pretrained(adapter)
        follow_umask(adapter)
        out["adapter_dir"] = str(adapter)
        out["model_dir"] = str(adapter)  # transformers + peft load an adapter dir directly
        if cfg.lora.merge and merge:
            out["model_dir"] = str(merge_lora(cfg.model, adapter, run_dir / "model", tok))
        return out
    target = run_dir / "model"
    unwrapped.save_pretrained(target, state_dict=state, safe_serialization=True)
    tok.save_pretrained(target)
    follow_umask(target)  # safetensors writes model.safetensors owner-only
    out["model_dir"] = str(target)
    return out


def merge_lora(base: str, adapter: Path, target: Path, tok: Any) -> Path:
    """Merge an adapter into a fresh bf16/fp32 copy of the base model (also for QLoRA, whose
    training weights are 4-bit: merging into the dequantised base keeps full precision)."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(resolve_model(base), dtype="auto")
    with _peft_reads_deprecated_alias():
        merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    merged.save_pretrained(target, safe_serialization=True)
    tok.save_pretrained(target)
    follow_umask(target)
    return target
