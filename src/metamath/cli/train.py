"""metamath train --config configs/train/<recipe>.yaml [key=value ...]: supervised fine-tuning."""

from __future__ import annotations

import argparse

from metamath.cli import _flags as flags

HELP = "fine-tune a causal LM on MetaMathQA-format data (full, LoRA or QLoRA)"
DESCRIPTION = """\
Fine-tune any causal LM (a directory, a .gguf file or a Hub id) on MetaMathQA-format JSONL
or a Hub dataset; a GGUF model is dequantized and saves as an ordinary HF checkpoint.
Everything is in the config; key=value overrides change any field:

  metamath train --config configs/train/tiny_cpu.yaml model=runs/tiny data.path=data.jsonl
  accelerate launch --config_file configs/train/accelerate/fsdp_8gpu.yaml \\
      -m metamath train --config configs/train/llama2_7b_full.yaml

The run directory gets config.yaml, metrics.jsonl (loss, lr, tokens/s, MFU), loss.svg,
report.html (+ report.md), data_report.json + dropped.jsonl (the length policy),
checkpoints/ (resumed automatically by re-running the same command) and model/ (Hugging
Face format). Every input is checked before anything is created (--dry-run: only that).
The run directory is locked while it trains: a second run there is refused at once.
data.on_bad_row=skip records bad rows (not UTF-8 JSON, missing fields, over
data.max_row_bytes) in dropped.jsonl instead of stopping.
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    flags.config(p, "recipe (configs/train/*.yaml)")
    flags.out(p, "run directory (default runs/train/<recipe>)", "--run-dir", dest="run_dir")
    flags.overrides(p, "lr=1e-5 data.path=my.jsonl")
    flags.no_progress(p)


def config_from_args(args: argparse.Namespace):
    """The resolved, checked TrainConfig; used by --dry-run too."""
    from metamath.train import load_train_config

    return load_train_config(args.config, args.overrides)


def _run_dir(args: argparse.Namespace):
    from pathlib import Path

    name = Path(args.config).stem if args.config else "default"
    return Path(args.run_dir or f"runs/train/{name}")


def check_inputs(cfg, args: argparse.Namespace) -> list[str]:
    """Every input exists and is readable, before the run directory is made (also --dry-run);
    one line per input checked."""
    from pathlib import Path

    from metamath.cli._inputs import (
        check_file,
        check_hub_dataset,
        check_model_input,
        check_out_dir,
        check_task,
    )
    from metamath.data import expand_data_path
    from metamath.train.data import is_local

    lines = [check_file(args.config, "--config")] if args.config else []
    # the model first: a mistyped model path is the commonest slip, and fails in well under 1 s
    lines.append(check_model_input(cfg.model, "model"))
    if not cfg.data.path:
        raise ValueError("data.path is empty: pass data.path=my.jsonl (MetaMathQA format)")
    for i, src in enumerate(cfg.data.path):
        src = expand_data_path(src)
        key = f"data.path[{i}]"
        lines.append(
            check_file(src, key, folder_ok=True) if is_local(src) else check_hub_dataset(src, key)
        )
    lines += [check_task(t, {}, cfg.eval.data_path, "eval.tasks") for t in cfg.eval.tasks]
    if cfg.resume not in ("auto", ""):
        lines.append(check_file(Path(cfg.resume) / "trainer_state.json", "resume"))
    lines.append(check_out_dir(_run_dir(args), "--run-dir"))
    return lines


def _evaluator(cfg):  # noqa: ANN001, ANN202
    """Accuracy during training (eval.tasks): the evaluate stage's, wired in here."""
    if not cfg.eval.tasks:
        return None
    from metamath.evaluate.live import for_training

    return for_training(cfg)


def run(args: argparse.Namespace) -> int:
    from metamath.train import run_train
    from metamath.train.data import summary

    cfg = config_from_args(args)
    check_inputs(cfg, args)
    run_dir = _run_dir(args)
    result = run_train(cfg, run_dir, evaluate=_evaluator(cfg), progress=not args.no_progress)
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
        print(f"model: {result.get('model_dir', '(not saved)')}; open {run_dir}/report.html")
    return 0
