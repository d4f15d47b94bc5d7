"""The run directory's human side: the loss plot (SVG) and report.md.

The plot is a hand-written SVG polyline so a run needs no plotting library (matplotlib is not a
dependency of the training extra); any browser shows it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from metamath.io import atomic_write_text


def read_metrics(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def loss_svg(rows: list[dict[str, Any]], width: int = 640, height: int = 320) -> str:
    pts = [(r["step"], r["loss"]) for r in rows if r.get("loss") is not None]
    val = [(r["step"], r["val_loss"]) for r in rows if r.get("val_loss") is not None]
    pad = 48
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">'
        f'<rect width="100%" height="100%" fill="white"/>'
    )
    if not pts:
        return head + f'<text x="{pad}" y="{pad}">no loss logged</text></svg>\n'
    xs, ys = [p[0] for p in pts + val], [p[1] for p in pts + val]
    x0, x1 = min(xs), max(max(xs), min(xs) + 1)
    y0, y1 = min(ys), max(max(ys), min(ys) + 1e-9)

    def sx(x: float) -> float:
        return pad + (x - x0) / (x1 - x0) * (width - 2 * pad)

    def sy(y: float) -> float:
        return height - pad - (y - y0) / (y1 - y0) * (height - 2 * pad)

    line = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
    axes = (
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        f'stroke="black"/><line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" '
        f'stroke="black"/>'
    )
    labels = (
        f'<text x="{pad}" y="{height - pad + 16}">{x0}</text>'
        f'<text x="{width - pad}" y="{height - pad + 16}" text-anchor="end">{x1}</text>'
        f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle">step</text>'
        f'<text x="{pad - 4}" y="{sy(y1) + 4:.1f}" text-anchor="end">{y1:.3g}</text>'
        f'<text x="{pad - 4}" y="{sy(y0) + 4:.1f}" text-anchor="end">{y0:.3g}</text>'
        f'<text x="{width / 2}" y="20" text-anchor="middle">training loss '
        f"(response + EOS tokens)" + (", validation loss in orange" if val else "") + "</text>"
    )
    vline = ""
    if val:
        vpts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in val)
        dots = "".join(
            f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="#ff7f0e"/>' for x, y in val
        )
        vline = (
            f'<polyline class="val" fill="none" stroke="#ff7f0e" stroke-width="1.5" '
            f'points="{vpts}"/>' + dots
        )
    return (
        head + axes + labels + f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" '
        f'points="{line}"/>' + vline + "</svg>\n"
    )


def write_report(run_dir: Path, stats: dict[str, Any], data_summary: str) -> None:
    rows = read_metrics(run_dir / "metrics.jsonl")
    atomic_write_text(run_dir / "loss.svg", loss_svg(rows))
    first = rows[0]["loss"] if rows else None
    last = rows[-1]["loss"] if rows else None
    md = [
        f"# Training run: {run_dir.name}",
        "",
        f"- model: `{stats.get('model')}`",
        f"- data: {data_summary}",
        f"- steps: {stats.get('steps')} (global batch {stats.get('global_batch_size')} "
        f"examples, {stats.get('processes')} process(es), gradient accumulation "
        f"{stats.get('grad_accum')})",
        f"- loss: {first} (first step) -> {last} (last step)",
        *(
            [
                f"- validation loss ({stats.get('val_size')} held-out examples, validation.jsonl): "
                + " -> ".join(f"{v:.4f} (step {s})" for s, v in stats["val_losses"])
            ]
            if stats.get("val_losses")
            else []
        ),
        *(
            [
                "- accuracy during training (evals/step-N/report.md): "
                + "; ".join(
                    f"step {s}: " + ", ".join(f"{t} {a:.3f}" for t, a in accs.items())
                    for s, accs in stats["evals"]
                )
            ]
            if stats.get("evals")
            else []
        ),
        f"- throughput: {stats.get('tokens_per_s')} tokens/s, MFU {stats.get('mfu')}",
        f"- saved: {stats.get('model_dir')}",
        "",
        "![loss](loss.svg)",
        "",
        "Files: config.yaml (resolved config), metrics.jsonl (one row per logged step), "
        "data_report.json and dropped.jsonl (length policy), stats.json, checkpoints/.",
    ]
    atomic_write_text(run_dir / "report.md", "\n".join(md) + "\n")
