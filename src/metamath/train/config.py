"""The training config: one dataclass tree, filled from configs/train/*.yaml and key=value overrides.

    cfg = load_train_config("configs/train/llama2_7b_full.yaml", ["epochs=1", "lora.enabled=true"])

Defaults are MetaMath's LLaMA-2 recipe (method reference §3: lr 2e-5, 3 epochs, global batch 128,
warmup 3%, cosine, max length 512, AdamW with weight decay 0, max grad norm 1.0, bf16).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from metamath.config import ConfigError, check_literals, load_config
from metamath.prompts.styles import TrainStyle

# LoRA on attention and MLP projections, as the paper's 70B QLoRA run (App. B).
LLAMA_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class DataConfig:
    # A JSONL/JSON/Parquet file, or a Hub dataset id (e.g. meta-math/MetaMathQA). Several: a list.
    path: list[str] = field(default_factory=list)
    split: str = "train"  # Hub split
    query_field: str = "query"  # MetaMathQA names; GSM8K train is question/answer
    response_field: str = "response"
    limit: int | None = None  # keep the first N rows (after reading, before shuffling)
    # a row that is not UTF-8 JSON, lacks query/response, or is over max_row_bytes: error, or
    # skip it (recorded in dropped.jsonl with file, line and reason, and counted)
    on_bad_row: Literal["error", "skip"] = "error"
    max_row_bytes: int = 1 << 20  # a larger row is a bad row, found before it is parsed
    cache_dir: str = ""  # tokenised-once cache; "" = ~/.cache/metamath/tokenised


@dataclass
class LoraConfig:
    enabled: bool = False
    r: int = 96
    alpha: int = 16
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=lambda: list(LLAMA_PROJECTIONS))
    quantize_4bit: bool = False  # QLoRA: NF4 base weights through bitsandbytes
    merge: bool = False  # also save the base model with the adapter merged in (run_dir/model)


@dataclass
class EvalDuringTraining:
    """Accuracy on eval tasks during training, with the live model (metamath eval's grader and
    prompt, through the `evaluate` callback the caller passes to run_train: `metamath train`
    builds it with metamath.evaluate.live.for_training). Needs the whole model on each process:
    one device, DDP, LoRA; under FSDP/DeepSpeed evaluate saved models with `metamath eval`."""

    tasks: list[str] = field(default_factory=list)  # e.g. [gsm8k]; empty: no evaluation
    limit: int = 200  # the first N problems of each task
    steps: int = 0  # every N optimizer steps; 0: at the end only
    max_tokens: int | None = None  # None: the task's (512 GSM8K, 2048 MATH)
    batch_size: int | None = None  # generation rows per batch; None: the hf backend's default
    data_path: str | None = None  # data dir or file; default $METAMATH_DATA, then the Hub


@dataclass
class TrainConfig:
    model: str = ""  # local path or Hub id of any causal LM
    # pretrained: load the weights; random: build the architecture from its config.json with
    # random weights (throughput benchmarks, from-scratch experiments)
    model_init: Literal["pretrained", "random"] = "pretrained"
    data: DataConfig = field(default_factory=DataConfig)
    # metamath: the Alpaca prompt used at evaluation too; original: the released trainer's quirks
    # (first-line split, no space after "### Response:"); chat: the tokenizer's chat template.
    prompt_style: TrainStyle = "metamath"
    max_length: int = 512
    # drop: skip over-long examples (reported); cut: right-truncate like the original trainer.
    over_length: Literal["drop", "cut"] = "drop"
    packing: bool = True  # each micro-batch's examples end to end, attention kept per example
    # packed rows hold at most this many tokens (a micro-batch may fill several); 0 = one row.
    # Flash attention always uses one row (varlen); for SDPA shorter rows mean less dense attention.
    pack_length: int = 2048
    group_by_length: bool = True  # unpacked only: sort each global batch by length before splitting
    global_batch_size: int = 128  # examples per optimizer step, all processes together
    micro_batch_size: int = 4  # examples per forward pass on one process
    epochs: float = 3.0
    max_steps: int = -1  # > 0 overrides epochs
    lr: float = 2e-5
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_eps: float = 1e-8
    max_grad_norm: float = 1.0
    warmup_ratio: float = 0.03
    warmup_steps: int = -1  # >= 0 overrides warmup_ratio
    scheduler: str = "cosine"  # any transformers.get_scheduler name
    model_dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    # bf16 | fp16 | no (ignored on CPU); a bare `no` in YAML (read as false) means "no"
    mixed_precision: Literal["bf16", "fp16", "no"] = "bf16"
    gradient_checkpointing: bool = False
    # auto: on CUDA flash_attention_2 where installed, else varlen (PyTorch's own varlen flash
    # kernel, after a self-check), else sdpa; on CPU varlen (per-document SDPA). varlen only for
    # families it computes exactly (metamath.train.attention.supports), else sdpa. Or set varlen,
    # sdpa, flex_attention, eager.
    attn_implementation: str = "auto"
    liger: bool = True  # Liger kernels where installed (CUDA only; not with compile)
    # torch.compile through accelerate's regional compilation (each repeated decoder block once,
    # dynamic shapes); the first steps pay the compile time. Turns Liger off (Dynamo cannot trace
    # its kernels). Measured on an H200: no gain at 7B, +4% at 1.1B; Liger gave +9% at 7B
    compile: bool = False
    fused_optimizer: bool = True  # fused AdamW on CUDA
    lora: LoraConfig = field(default_factory=LoraConfig)
    eval: EvalDuringTraining = field(default_factory=EvalDuringTraining)
    seed: int = 42
    save_steps: int = 1000  # 0: only the final model
    keep_checkpoints: int = 2
    # also write each checkpoint's model in Hugging Face format (checkpoints/step-N/model, or
    # adapter/ for LoRA) for `metamath eval`; under FSDP/DeepSpeed this gathers the full weights
    save_hf_checkpoints: bool = False
    resume: str = "auto"  # auto: latest checkpoint in run_dir; "": start fresh; or a checkpoint dir
    log_steps: int = 1
    # Validation loss: hold out val_size of the kept examples (a seeded choice) and report the
    # mean NLL on their responses every val_steps optimizer steps and at the end (0: end only).
    val_size: int = 0
    val_steps: int = 0
    report_to: list[str] = field(default_factory=list)  # tensorboard, wandb
    peak_tflops: float = 0.0  # for MFU; 0 = look the GPU up (H100/H200 bf16 dense: 989)
    save_model: bool = True

    def check(self) -> None:
        """ConfigError naming the key, the value and the fix; changes nothing."""
        check_literals(self)
        if not self.model:
            raise ConfigError("model: set a local path or Hub id (model=meta-llama/Llama-2-7b-hf)")
        if not self.data.path:
            raise ConfigError(
                "data.path: set a JSONL/JSON/Parquet file or a Hub dataset id "
                "(data.path=meta-math/MetaMathQA)"
            )
        if self.global_batch_size < 1 or self.micro_batch_size < 1:
            raise ConfigError("global_batch_size and micro_batch_size must be >= 1")
        if 0 < self.pack_length < self.max_length:
            raise ConfigError(
                f"pack_length={self.pack_length} is shorter than max_length="
                f"{self.max_length}; set pack_length >= max_length, or 0 for one row"
            )
        if self.eval.tasks:
            from metamath.tasks import get_task

            for t in self.eval.tasks:
                try:
                    get_task(t)  # an unknown task name fails here, before any training
                except ValueError as e:
                    raise ConfigError(f"eval.tasks: {e}") from None
            if self.eval.limit < 1 or self.eval.steps < 0:
                raise ConfigError("eval.limit must be >= 1 and eval.steps >= 0")
        if self.val_size < 0 or self.val_steps < 0:
            raise ConfigError("val_size and val_steps must be >= 0")
        if self.max_length < 2:
            raise ConfigError(f"max_length={self.max_length}: must be at least 2")


def load_train_config(
    path: str | Path | None = None, overrides: list[str] | None = None
) -> TrainConfig:
    """Defaults <- YAML <- overrides; a single data.path string becomes a one-item list."""
    over = list(overrides or [])
    cfg = load_config(TrainConfig, path, over)
    cfg.check()
    return cfg
