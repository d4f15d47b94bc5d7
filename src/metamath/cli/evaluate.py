"""metamath eval: score a model on GSM8K, MATH, MATH-500, GSM8K-Backward or your own JSONL."""

from __future__ import annotations

import argparse
import re

from metamath.cli import _flags as flags

HELP = "evaluate a model (gsm8k, math, math500, gsm8k_backward, any JSONL)"
DESCRIPTION = """\
Generate, grade with metamath.answers (strict and flexible), and write samples.jsonl,
results.json, report.html (+ report.md) into the run directory. Every input is checked
before anything is created (--dry-run: only that). Re-running the same command resumes
from the response cache; a second run in a directory that a run holds is refused. A task
row over max_row_bytes (1 MiB) or not UTF-8 JSON is an error naming it. key=value
overrides may come before or after the options.

  metamath eval --model ./ckpt --tasks gsm8k,math500
  metamath eval --config configs/eval/metamath_paper.yaml --model meta-math/MetaMath-7B-V1.0 \\
      --backend vllm
  metamath eval --model Qwen/Qwen2.5-7B --tasks gsm8k --prompt-style fewshot \\
      decoding.n=16 decoding.temperature=0.7 decoding.k=[1,4,16]
  metamath eval --model ./ckpt --tasks svamp task_files.svamp.path=svamp.jsonl \\
      task_files.svamp.question=Body task_files.svamp.answer=Answer
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    flags.overrides(p, "decoding.n=8 limit=20 options.device=cpu")
    flags.config(p, "config (configs/eval/*.yaml)")
    p.add_argument(
        "--model",
        help="model directory, .gguf file or Hub id (a served model's name for openai)",
    )
    p.add_argument(
        "--tasks",
        help="comma-separated: gsm8k,math,math500,gsm8k_backward,"
        "path.jsonl or names under task_files",
    )
    p.add_argument("--backend", choices=["hf", "vllm", "openai"])
    p.add_argument(
        "--prompt-style",
        choices=["alpaca", "chat", "fewshot", "lm_eval"],
        help="alpaca (default), chat, fewshot, or lm_eval (lm-evaluation-harness's gsm8k task)",
    )
    p.add_argument("--limit", type=int, help="first N problems of each task")
    flags.out(p, "run directory (default runs/eval/<model>-<style>)")
    flags.no_progress(p)


def config_from_args(args: argparse.Namespace):
    """The resolved EvalConfig (YAML <- key=value <- flags), checked; used by --dry-run too."""
    from metamath.config import load_config
    from metamath.evaluate import EvalConfig

    cfg = load_config(EvalConfig, args.config, args.overrides)
    if args.model:
        cfg.model = args.model
    if args.tasks:
        cfg.tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if args.backend:
        cfg.backend = args.backend
    if args.prompt_style:
        cfg.prompt_style = args.prompt_style
    if args.limit is not None:
        cfg.limit = args.limit
    cfg.check()
    return cfg


def _out(cfg, args: argparse.Namespace) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", cfg.model.rstrip("/").split("/")[-1] or "model")
    return args.out or f"runs/eval/{slug}-{cfg.prompt_style}"


def check_inputs(cfg, args: argparse.Namespace) -> list[str]:
    """Every input exists and is readable, before the run directory is made (also --dry-run);
    one line per input checked."""
    from metamath.cli._inputs import check_file, check_model_input, check_out_dir, check_task

    lines = [check_file(args.config, "--config")] if args.config else []
    # the model first: a mistyped model path is the commonest slip, and fails in well under 1 s
    if cfg.backend in ("hf", "vllm"):  # openai: a name the server knows
        lines.append(check_model_input(cfg.model, "--model"))
    from metamath.llm import check_options

    lines.append(check_options(cfg.backend, cfg.options, "options"))
    lines += [check_task(t, cfg.task_files, cfg.data_path, "task") for t in cfg.tasks]
    lines.append(check_out_dir(_out(cfg, args), "--out"))
    return lines


def run(args: argparse.Namespace) -> int:
    from metamath.evaluate import run_eval

    cfg = config_from_args(args)
    check_inputs(cfg, args)
    out = _out(cfg, args)
    results = run_eval(cfg, out, progress=not args.no_progress)
    p = results["primary"]  # the grade mode that fills `correct`
    print(f"{'task':<16} {'n':>6} {'strict':>8} {'flexible':>9}  {p} 95% CI")
    for name, t in results["tasks"].items():
        m = t["metrics"]
        lo, hi = m[p]["ci95"]
        print(
            f"{name:<16} {m['n_problems']:>6} {100 * m['strict']['accuracy']:>7.1f}% "
            f"{100 * m['flexible']['accuracy']:>8.1f}%  [{100 * lo:.1f}, {100 * hi:.1f}]"
        )
        if not t["size_ok"]:
            print(
                f"  warning: {name} has {t['n_problems']} problems, expected "
                f"{t['expected_size']}; scores are not comparable to the paper's"
            )
    print(f"wrote {out}/samples.jsonl, results.json, report.md; open {out}/report.html")
    return 0
