"""metamath augment: bootstrap MetaMathQA-style data (AnsAug, Rephrasing, FOBAR, SV)."""

from __future__ import annotations

import argparse

HELP = "bootstrap MetaMathQA data from seed questions with a teacher LLM"
DESCRIPTION = (
    "Sample solutions, rephrasings and backward questions (FOBAR, SV) from a teacher, keep the\n"
    "correct ones (metamath.answers), dedup, decontaminate, subsample to the recipe's targets,\n"
    "and write metamathqa.jsonl, rejected.jsonl, stats.json and DATA_CARD.md into the run\n"
    "directory. Re-running the same command resumes item by item.\n\n"
    "  metamath augment --config configs/augment/quickstart.yaml teacher.model=./tiny\n"
    "  metamath augment --config configs/augment/gsm8k.yaml teacher.model=gpt-4o-mini \\\n"
    "      teacher.options.base_url=https://api.openai.com/v1\n"
    "  metamath augment --config configs/augment/gsm8k.yaml --shard 0/4 --out runs/aug/s0\n"
    "  metamath augment --config configs/augment/gsm8k.yaml --merge runs/aug/s0 runs/aug/s1 \\\n"
    "      runs/aug/s2 runs/aug/s3 --out runs/aug/all\n"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "overrides",
        nargs="*",
        metavar="key=value",
        help="config overrides, e.g. teacher.model=./tiny answer_aug.k=8 shots=2 "
        '"seeds=[{name: gsm8k, limit: 20}]"',
    )
    p.add_argument("--config", help="YAML recipe (configs/augment/*.yaml)")
    p.add_argument("--out", help="run directory (default runs/augment/<recipe>)")
    p.add_argument("--shard", help="i/n: this machine's share of the seeds (then --merge)")
    p.add_argument(
        "--merge",
        nargs="+",
        metavar="RUN_DIR",
        help="assemble the work of these (sharded) run directories into --out",
    )
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def config_from_args(args: argparse.Namespace):
    """The resolved, validated AugmentConfig; used by --dry-run too."""
    from metamath.augment import AugmentConfig
    from metamath.augment.config import validate
    from metamath.config import load_config

    cfg = load_config(AugmentConfig, args.config, args.overrides)
    if args.shard:
        cfg.shard = args.shard
    validate(cfg)
    if cfg.teacher.backend in ("hf", "vllm"):  # in-process teachers load a local or Hub model
        from metamath.models import check_model

        check_model(cfg.teacher.model, "teacher.model")
    return cfg


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from metamath.augment import merge_runs, run_augment

    cfg = config_from_args(args)
    name = Path(args.config).stem if args.config else "default"
    out = args.out or (
        f"runs/augment/{name}"
        + (f"-shard{cfg.shard.replace('/', 'of')}" if cfg.shard != "0/1" else "")
    )
    if args.merge:
        stats = merge_runs(cfg, args.merge, out)
    else:
        stats = run_augment(cfg, out, progress=not args.no_progress)
    print(f"{'technique':<18} {'requests':>8} {'samples':>8} {'kept':>7} {'yield':>7}")
    for t, v in stats["techniques"].items():
        if v["samples"] or v["requests"]:
            print(
                f"{t:<18} {v['requests']:>8} {v['samples']:>8} {v['kept']:>7} "
                f"{100 * v['yield']:>6.1f}%"
            )
    for t in stats["zero_yield"]:
        print(f"warning: {t} kept nothing (a weak or random teacher?); see rejected.jsonl")
    print(
        f"{stats['rows']} rows; wrote {out}/metamathqa.jsonl, rejected.jsonl, stats.json, "
        "DATA_CARD.md"
    )
    return 0
