"""The run directory's human side: loss.svg, report.md and a self-contained report.html, both
reports rendered from one metamath.report.Page.

The loss axis starts at 0 and ends on a round number; while the loss is still near what a
uniform guess over the vocabulary scores (ln V nats per token, where random weights start), that
level is drawn as a labelled line, so a flat curve reads as "not learning yet" rather than as
swings in the third decimal.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from metamath import report as rk
from metamath.io import atomic_write_text
from metamath.plots import Ref, Series, line_plot
from metamath.report import code, num, pct, plural, write_page

FILES = [  # (name, what it holds); listed in the report only when the run wrote it
    ("config.yaml", "the resolved config, with package version and git sha"),
    ("metrics.jsonl", "one row per logged step: loss, lr, grad norm, tokens/s, MFU"),
    ("data_report.json", "what the data step kept and removed (length policy)"),
    ("dropped.jsonl", "the examples dropped for length"),
    ("validation.jsonl", "the held-out examples behind the validation loss"),
    ("stats.json", "this report's numbers"),
    ("evals", "accuracy runs during training: samples and report per step"),
    ("checkpoints", "resumable training state; re-run the same command to continue"),
    ("adapter", "the LoRA adapter (Hugging Face format)"),
    ("model", "the trained model (Hugging Face format), for `metamath eval --model`"),
]


def read_metrics(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def uniform_loss(vocab_size: int | None) -> float | None:
    """Cross-entropy of a uniform guess over the vocabulary: ln V nats per token."""
    return math.log(vocab_size) if vocab_size and vocab_size > 1 else None


def _near_uniform(rows: list[dict[str, Any]], ln_v: float) -> bool:
    """The curve is in the random-init regime: only then is the ln V line drawn (beside a
    fine-tune's 0.3-1.0, a line at 11.9 for a 150K vocabulary would squash the curve)."""
    losses = [r["loss"] for r in rows if r.get("loss") is not None]
    return bool(losses) and max(losses) >= ln_v / 2


def loss_svg(rows: list[dict[str, Any]], vocab_size: int | None = None) -> str:
    train = [(r["step"], r["loss"]) for r in rows if r.get("loss") is not None]
    val = [(r["step"], r["val_loss"]) for r in rows if r.get("val_loss") is not None]
    series = [Series("training loss", train, "#1f77b4")]
    if val:
        series.append(Series("validation loss", val, "#ff7f0e", dots=True, cls="val"))
    refs = []
    ln_v = uniform_loss(vocab_size)
    if ln_v and _near_uniform(rows, ln_v):
        refs.append(Ref(ln_v, f"uniform guess over {vocab_size:,} tokens: ln V = {ln_v:.2f}"))
    return line_plot(series, x_label="step", y_label="loss (nats per token)", refs=refs) + "\n"


def _key(stats: dict[str, Any], rows: list[dict[str, Any]]) -> list[rk.Stat]:
    first = next((r["loss"] for r in rows if r.get("loss") is not None), None)
    out = [
        rk.Stat(
            "training loss",
            num(stats.get("final_loss")),
            f"step {stats.get('steps')}; step 1: {num(first)}" if first is not None else "",
        )
    ]
    if stats.get("val_losses"):
        out.append(
            rk.Stat(
                "validation loss",
                num(stats["val_losses"][-1][1]),
                f"{plural(stats.get('val_size', 0), 'held-out example')}",
            )
        )
    for step, accs in stats.get("evals", [])[-1:]:
        for task, acc in accs.items():
            out.append(rk.Stat(f"{task} accuracy", pct(acc), f"at step {step}, during training"))
    out.append(rk.Stat("throughput", f"{num(stats.get('tokens_per_s'))} tokens/s", _mfu(stats)))
    return out


def _mfu(stats: dict[str, Any]) -> str:
    if stats.get("mfu") is None:
        return "MFU: n/a (no peak FLOP/s known for this device; set peak_tflops)"
    return f"MFU {pct(stats['mfu'])} (6 × params × tokens/s ÷ peak FLOP/s)"


def _setup(stats: dict[str, Any], data_summary: str) -> rk.Section:
    n = stats.get("processes") or 1
    rows = [
        ["model", code(stats.get("model"))],
        ["data", data_summary],
        [
            "steps",
            f"{stats.get('steps')}"
            + (
                f" (resumed from step {stats['resumed_from_step']})"
                if stats.get("resumed_from_step")
                else ""
            ),
        ],
        [
            "batch",
            f"{plural(stats.get('global_batch_size') or 0, 'example')} per optimizer step, "
            f"{plural(n, 'process', 'processes')}, gradient accumulation "
            f"{stats.get('grad_accum')}",
        ],
        ["parameters", num(stats.get("params"))],
        [
            "kernels",
            f"attention {stats.get('attention')}; Liger {'on' if stats.get('liger') else 'off'}; "
            f"compile {'on' if stats.get('compiled') else 'off'}",
        ],
        ["wall time", f"{num(stats.get('wall_s'), 1)} s"],
        ["saved", code(stats["model_dir"]) if stats.get("model_dir") else "(not saved)"],
    ]
    return rk.Section("Setup", [rk.Table(["setting", "value"], rows)])


def build_page(run_dir: Path, stats: dict[str, Any], data_summary: str) -> rk.Page:
    rows = read_metrics(run_dir / "metrics.jsonl")
    ln_v = uniform_loss(stats.get("vocab_size"))
    sections = [
        rk.Section(
            "Loss",
            [
                rk.Figure(loss_svg(rows, stats.get("vocab_size")), file="loss.svg"),
                rk.Notes(
                    [
                        ("loss", "mean negative log-likelihood per response + EOS token (nats)"),
                        *(
                            [
                                (
                                    "ln V",
                                    f"{ln_v:.2f}: what a uniform guess over the "
                                    f"{stats['vocab_size']:,}-token vocabulary scores; random "
                                    "weights start near it"
                                    + (
                                        ""
                                        if _near_uniform(rows, ln_v)
                                        else " (far above this curve, so not drawn)"
                                    ),
                                )
                            ]
                            if ln_v
                            else []
                        ),
                    ]
                ),
            ],
        )
    ]
    if stats.get("val_losses"):
        sections.append(
            rk.Section(
                "Validation loss",
                [rk.Table(["step", "loss"], [[s, num(v)] for s, v in stats["val_losses"]])],
            )
        )
    if stats.get("evals"):
        tasks = sorted({t for _, a in stats["evals"] for t in a})
        sections.append(
            rk.Section(
                "Accuracy during training",
                [
                    rk.Table(
                        ["step", *tasks],
                        [[s, *(pct(a.get(t)) for t in tasks)] for s, a in stats["evals"]],
                        note="metamath eval's prompt and grader (primary score) on the live "
                        "model; each run's samples and report in evals/step-N/.",
                    ),
                    rk.Links(
                        [
                            (f"step {s}", f"evals/step-{s:07d}/report.html", "", "")
                            for s, _ in stats["evals"]
                            if (run_dir / "evals" / f"step-{s:07d}" / "report.html").exists()
                        ]
                    ),
                ],
            )
        )
    sections.append(_setup(stats, data_summary))
    files = [
        f"`{name}{'/' if (run_dir / name).is_dir() else ''}`: {what}"
        for name, what in FILES
        if (run_dir / name).exists()
    ]
    sections.append(rk.Section("Files", [rk.Bullets(files)]))
    return rk.Page(
        f"Training run: {run_dir.name}",
        f"`{stats.get('model')}` · {plural(stats.get('steps') or 0, 'step')}",
        key=_key(stats, rows),
        sections=sections,
    )


def write_report(run_dir: Path, stats: dict[str, Any], data_summary: str) -> None:
    """loss.svg, report.md and report.html in run_dir (the main process calls this)."""
    rows = read_metrics(run_dir / "metrics.jsonl")
    atomic_write_text(run_dir / "loss.svg", loss_svg(rows, stats.get("vocab_size")))
    write_page(build_page(run_dir, stats, data_summary), run_dir, "report")
