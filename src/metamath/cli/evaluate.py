"""metamath eval: score a model on GSM8K, MATH, MATH-500, GSM8K-Backward or your own JSONL."""

from __future__ import annotations

import argparse
import re

HELP = "evaluate a model (gsm8k, math, math500, gsm8k_backward, any JSONL)"
DESCRIPTION = (
    "Generate, grade with metamath.answers (strict and flexible), and write samples.jsonl,\n"
    "results.json, report.md and report.html into the run directory. Re-running the same\n"
    "command resumes from the response cache.\n\n"
    "  metamath eval --model ./ckpt --tasks gsm8k,math500\n"
    "  metamath eval --config configs/eval/metamath_paper.yaml --model meta-math/MetaMath-7B-V1.0 \\\n"
    "      --backend vllm\n"
    "  metamath eval --model Qwen/Qwen2.5-7B --tasks gsm8k --prompt-style fewshot \\\n"
    "      decoding.n=16 decoding.temperature=0.7 decoding.k=[1,4,16]\n"
    "  metamath eval --model ./ckpt --tasks svamp task_files.svamp.path=svamp.jsonl \\\n"
    "      task_files.svamp.question=Body task_files.svamp.answer=Answer\n"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "overrides",
        nargs="*",
        metavar="key=value",
        help="config overrides, e.g. decoding.n=8 limit=20 backend_options.device=cpu",
    )
    p.add_argument("--config", help="YAML config (configs/eval/*.yaml)")
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
    p.add_argument("--out", help="run directory (default runs/eval/<model>-<style>)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


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
    if cfg.backend in ("hf", "vllm"):  # before the run directory exists (openai: a served name)
        from metamath.models import check_model

        check_model(cfg.model, "--model")
    return cfg


def run(args: argparse.Namespace) -> int:
    from metamath.evaluate import run_eval

    cfg = config_from_args(args)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", cfg.model.rstrip("/").split("/")[-1] or "model")
    out = args.out or f"runs/eval/{slug}-{cfg.prompt_style}"
    results = run_eval(cfg, out, progress=not args.no_progress)
    p = results["primary"]
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
    print(f"wrote {out}/samples.jsonl, results.json, report.md, report.html")
    return 0
