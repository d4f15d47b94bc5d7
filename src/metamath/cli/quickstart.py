"""metamath quickstart [key=value ...]: the whole loop, small, in one run directory."""

from __future__ import annotations

import argparse
import sys

HELP = "bootstrap, fine-tune (LoRA) and evaluate, small, in one run directory"
DESCRIPTION = """\
Bootstrap a slice of GSM8K train with all four techniques (in-process hf teacher), evaluate the
student on a slice of GSM8K test, fine-tune it with LoRA for a few steps, evaluate again, and
write RUN_DIR/index.html linking the data card, the training curve and both reports.

Defaults are small Hub models (teacher Qwen/Qwen2.5-0.5B-Instruct, student Qwen/Qwen2.5-0.5B).
Offline, pass local weights:

  metamath tiny-model runs/tiny
  metamath quickstart teacher=runs/tiny student=runs/tiny

Keys (key=value): teacher, student, out (runs/quickstart), seeds (8), k (2), max_tokens (256),
eval_limit (20), train_steps (10), lr, lora_r, lora_alpha, device (auto|cpu|cuda).
Re-running the same command resumes: finished steps are not redone.
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "overrides",
        nargs="*",
        metavar="key=value",
        help="config overrides, e.g. teacher=runs/tiny student=runs/tiny seeds=4",
    )
    p.add_argument("--config", default=None, help="YAML file with the same keys")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def run(args: argparse.Namespace) -> int:
    from metamath.config import load_config
    from metamath.quickstart import OfflineError, QuickstartConfig, run_quickstart

    cfg = load_config(QuickstartConfig, args.config, args.overrides)
    try:
        summary = run_quickstart(
            cfg, progress=not args.no_progress, log=lambda m: print(m, file=sys.stderr, flush=True)
        )
    except OfflineError as e:
        print(f"metamath quickstart: {e}", file=sys.stderr)
        return 2
    b, a = summary["accuracy_before"] or {}, summary["accuracy_after"] or {}
    print(
        f"done in {summary['seconds']} s: GSM8K slice accuracy (strict) "
        f"{b.get('strict')} -> {a.get('strict')}; open {cfg.out}/index.html"
    )
    return 0
