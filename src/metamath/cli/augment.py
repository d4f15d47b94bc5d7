"""metamath augment: bootstrap MetaMathQA-style data (AnsAug, Rephrasing, FOBAR, SV)."""

from __future__ import annotations

import argparse

from metamath.cli import _flags as flags
from metamath.report import plural

HELP = "bootstrap MetaMathQA data from seed questions with a teacher LLM"
DESCRIPTION = """\
Sample solutions, rephrasings and backward questions (FOBAR, SV) from a teacher, keep the
correct ones (metamath.answers), dedup, decontaminate, subsample to the recipe's targets,
and write metamathqa.jsonl, rejected.jsonl, stats.json and DATA_CARD.html (+ .md) into the
run directory (rejected.jsonl: every sample not kept, seed row not read and request that
failed, each with its reason). Every input is checked before anything is created
(--dry-run: only that). Re-running the same command resumes item by item; a second run in
a directory that a run holds is refused. Keys come from the environment only.

  metamath augment --config configs/augment/quickstart.yaml teacher.model=runs/tiny
  metamath augment --config configs/augment/gsm8k.yaml teacher.model=gpt-4o-mini \\
      teacher.options.base_url=https://api.openai.com/v1
  metamath augment --config configs/augment/gsm8k.yaml --shard 0/4 --out runs/aug/s0
  metamath augment --config configs/augment/gsm8k.yaml --merge runs/aug/s0 runs/aug/s1 \\
      runs/aug/s2 runs/aug/s3 --out runs/aug/all
  metamath augment --config configs/augment/gsm8k.yaml --out runs/aug/all \\
      --export-hf runs/aug/hf --push-to-hub me/my-metamathqa
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    flags.overrides(
        p, 'teacher.model=runs/tiny answer_aug.k=8 shots=2 "seeds=[{name: gsm8k, limit: 20}]"'
    )
    flags.config(p, "recipe (configs/augment/*.yaml)")
    flags.out(p, "run directory (default runs/augment/<recipe>)")
    p.add_argument("--shard", help="i/n: this machine's share of the seeds (then --merge)")
    p.add_argument(
        "--merge",
        nargs="+",
        metavar="RUN_DIR",
        help="assemble the work of these (sharded) run directories into --out",
    )
    p.add_argument(
        "--export-hf",
        metavar="DIR",
        help="also write the kept rows as a Hugging Face dataset (Parquet, the data card as "
        "README.md); `metamath train data.path=DIR` and datasets.load_dataset(DIR) read it",
    )
    p.add_argument(
        "--push-to-hub",
        metavar="REPO",
        help="upload the --export-hf folder as a Hub dataset repo (needs the network, $HF_TOKEN)",
    )
    flags.no_progress(p)


def config_from_args(args: argparse.Namespace):
    """The resolved, validated AugmentConfig; used by --dry-run too."""
    from metamath.augment import AugmentConfig
    from metamath.config import load_config

    cfg = load_config(AugmentConfig, args.config, args.overrides)
    if args.shard:
        cfg.shard = args.shard
    cfg.check()
    return cfg


def _out(cfg, args: argparse.Namespace) -> str:
    from pathlib import Path

    name = Path(args.config).stem if args.config else "default"
    return args.out or (
        f"runs/augment/{name}"
        + (f"-shard{cfg.shard.replace('/', 'of')}" if cfg.shard != "0/1" else "")
    )


def _check_teacher_options(t) -> str:  # noqa: ANN001
    from metamath.llm import check_options

    if t.backend == "scripted":
        from metamath.augment.scripted import ScriptedTeacher

        return check_options("scripted", t.options, "teacher.options", cls=ScriptedTeacher)
    return check_options(t.backend, t.options, "teacher.options")


def check_inputs(cfg, args: argparse.Namespace) -> list[str]:
    """Every input exists and is readable, before the run directory is made (also --dry-run);
    one line per input checked."""
    from pathlib import Path

    from metamath.augment.seeds import FILE_HINT
    from metamath.cli._inputs import check_dataset, check_file, check_model_input, check_out_dir
    from metamath.data import local_file

    lines = [check_file(args.config, "--config")] if args.config else []
    # the model first: a mistyped model path is the commonest slip, and fails in well under 1 s
    if cfg.teacher.backend in ("hf", "vllm"):  # in-process teachers load a local or Hub model
        lines.append(check_model_input(cfg.teacher.model, "teacher.model"))
    lines.append(_check_teacher_options(cfg.teacher))
    if args.merge:
        for d in args.merge:
            lines.append(check_file(Path(d) / "work" / "candidates.jsonl", f"--merge {d}"))
    else:
        for i, s in enumerate(cfg.seeds):
            key = f"seeds[{i}]"
            if s.path:
                lines.append(check_file(s.path, f"{key}.path"))
            else:
                lines.append(check_dataset(s.name, s.split, key, FILE_HINT))
    if cfg.decontaminate:  # a test set not found locally is recorded, not fatal
        for name in cfg.decontam_sets:
            found = local_file(name, "test") if name in ("gsm8k", "math") else None
            lines.append(
                f"decontam_sets {name}: "
                + (
                    str(found)
                    if found
                    else "not local: loaded from the Hub or recorded as not loaded"
                )
            )
    lines.append(check_out_dir(_out(cfg, args), "--out"))
    return lines


def run(args: argparse.Namespace) -> int:
    from metamath.augment import merge_runs, run_augment

    cfg = config_from_args(args)
    if args.push_to_hub and not args.export_hf:
        raise ValueError("--push-to-hub REPO needs --export-hf DIR (the folder it uploads)")
    check_inputs(cfg, args)
    out = _out(cfg, args)
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
    b = {t: v for t, v in stats.get("budget", {}).items() if v["questions"]}
    for t, v in b.items():
        print(
            f"{t}: {v['questions_without_kept']} of {v['questions']} questions without a kept "
            f"sample; {v['samples_per_kept'] or '-'} samples per kept sample ({v['budget']})"
        )
    _report_losses(stats, out)
    print(
        f"{plural(stats['rows'], 'row')}; wrote {out}/metamathqa.jsonl, rejected.jsonl, stats.json; "
        f"open {out}/DATA_CARD.html"
    )
    if args.export_hf:
        from metamath.augment.export import export_hf, push_to_hub

        got = export_hf(out, args.export_hf)
        print(
            f"exported {plural(got['rows'], 'row')} to {args.export_hf} ({len(got['files'])} Parquet files)"
        )
        if args.push_to_hub:
            print(f"pushed to {push_to_hub(args.export_hf, args.push_to_hub)}")
    return 0


def _report_losses(stats: dict, out: str) -> None:
    """What did not make it, on the console: every loss is also a row of rejected.jsonl."""
    import sys

    empty = sum(v["rejected"].get("no_content", 0) for v in stats["techniques"].values())
    warnings = [
        (
            stats.get("seed_rows_rejected", 0),
            "warning: {n} seed rows could not be read and were skipped (file, line and "
            "reason in {out}/rejected.jsonl, stage 'seeds')",
        ),
        (
            stats.get("failed_requests", 0),
            "warning: {n} requests failed after their retries (errors in "
            "{out}/rejected.jsonl, stage 'request'); re-run the same command to retry them",
        ),
        (
            empty,
            "warning: {n} samples came back without text (reason no_content in rejected.jsonl)",
        ),
        (
            stats["rows"] == 0,
            "WARNING: 0 rows kept: {out}/metamathqa.jsonl is empty. Every sample was rejected "
            "or lost; see {out}/rejected.jsonl for the reasons (a random or weak teacher, a "
            "wrong teacher.model, a server that failed every request?)",
        ),
    ]
    for n, message in warnings:
        if n:
            print(message.format(n=n, out=out), file=sys.stderr)
