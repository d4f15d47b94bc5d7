"""metamath tiny-model OUT_DIR: build a tiny random LLaMA + tokenizer for offline runs and tests."""

from __future__ import annotations

import argparse

HELP = "build a tiny random LLaMA model + tokenizer (offline demos, tests)"
DESCRIPTION = """\
Build a tiny LLaMA-architecture model with random weights and a BPE tokenizer trained on the
seed data text ($METAMATH_DATA, if present). Pass the directory wherever a model is
expected to run the whole pipeline offline:

  metamath tiny-model ./tiny && metamath quickstart teacher=./tiny student=./tiny
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("out_dir", help="directory to write the model and tokenizer to")
    p.add_argument(
        "--data-dir",
        default=None,
        help="seed data dir for tokenizer text (default: $METAMATH_DATA or "
        "../shared/data if present)",
    )
    p.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from metamath.data import data_dir
    from metamath.tiny import build_tiny_model

    d = args.data_dir or (data_dir() if data_dir().exists() else None)
    out = build_tiny_model(args.out_dir, d, seed=args.seed)
    print(f"tiny model written to {out}")
    return 0
