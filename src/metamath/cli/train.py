"""metamath train --config configs/train/<recipe>.yaml [key=value ...]: supervised fine-tuning."""

from __future__ import annotations

import argparse

HELP = "fine-tune a causal LM on MetaMathQA-format data (full, LoRA or QLoRA)"
DESCRIPTION = (
    "Fine-tune any causal LM (a directory, a .gguf file or a Hub id) on MetaMathQA-format JSONL\n"
    "or a Hub dataset; a GGUF model is dequantized and saves as an ordinary HF checkpoint.\n"
    "Everything is in the config; key=value overrides change any field:\n\n"
    "  metamath train --config configs/train/tiny_cpu.yaml model=./tiny data.path=data.jsonl\n"
    "  accelerate launch --config_file configs/train/accelerate/fsdp_8gpu.yaml \\\n"
    "      -m metamath train --config configs/train/llama2_7b_full.yaml\n\n"
    "The run directory gets config.yaml, metrics.jsonl (loss, lr, tokens/s, MFU), loss.svg,\n"
    "report.md, data_report.json + dropped.jsonl (the length policy), checkpoints/ (resumed\n"
    "automatically by re-running the same command) and model/ (Hugging Face format).\n"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None, help="YAML recipe (configs/train/*.yaml)")
    p.add_argument(
        "--run-dir",
        "--out",
        dest="run_dir",
        default=None,
        help="output directory (default: runs/train-<config name>)",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument("overrides", nargs="*", help="key=value config overrides (e.g. lr=1e-5)")


def config_from_args(args: argparse.Namespace):
    """The resolved, checked TrainConfig; used by --dry-run too."""
    from metamath.models import check_model
    from metamath.train import load_train_config

    cfg = load_train_config(args.config, args.overrides)
    check_model(cfg.model, "model")  # before the run directory exists
    return cfg


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from metamath.train import run_train
    from metamath.train.data import summary

    cfg = config_from_args(args)
    name = Path(args.config).stem if args.config else "default"
    run_dir = Path(args.run_dir or f"runs/train-{name}")
    result = run_train(cfg, run_dir)
    from accelerate import PartialState

    if PartialState().is_main_process:
        if result.get("already_complete"):
            print(
                f"{run_dir} already holds a finished run of this config (resume=auto); "
                "nothing to do. Pass resume='' or another --run-dir to train again."
            )
        print(f"data: {summary(result['data'])}")
        print(
            f"trained {result['steps']} steps; final loss {result['final_loss']:.4f}; "
            f"{result['tokens_per_s']} tokens/s"
        )
        print(f"model: {result.get('model_dir', '(not saved)')}; run directory: {run_dir}")
    return 0
