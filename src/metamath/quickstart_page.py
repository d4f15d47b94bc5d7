"""The quickstart's front page: index.html (and index.md) over one quickstart run directory.

It opens with the numbers the loop is about (GSM8K accuracy before and after fine-tuning, rows
bootstrapped, the training loss), then one section per step, each built by one function in
`sections()` (a new section is one more function there), and links to the rendered reports of
every step (their HTML pages; the raw files are named, not linked).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from metamath import report as rk
from metamath.quickstart_data import NAMES, TECHNIQUES, interval
from metamath.report import code, counts, num, pct, write_page

REPORTS = [  # (label, page, markdown twin, what it shows)
    (
        "Data card",
        "augment/DATA_CARD.html",
        "augment/DATA_CARD.md",
        "every technique's yield, rejection reasons, examples kept and rejected",
    ),
    ("Training report", "train/report.html", "train/report.md", "loss curve, throughput, setup"),
    (
        "Evaluation before fine-tuning",
        "eval_before/report.html",
        "eval_before/report.md",
        "scores, reasons, failures with the model's replies",
    ),
    (
        "Evaluation after fine-tuning",
        "eval_after/report.html",
        "eval_after/report.md",
        "the same problems after LoRA",
    ),
]


def _acc(summary: dict[str, Any], when: str, mode: str) -> float | None:
    acc = summary.get(f"accuracy_{when}")
    return None if acc is None else acc.get(mode)


def key_numbers(summary: dict[str, Any]) -> list[rk.Stat]:
    n = summary.get("eval_limit")
    out = [
        rk.Stat(
            f"GSM8K accuracy, strict{f' ({n} problems)' if n else ''}",
            f"{pct(_acc(summary, 'before', 'strict'))} → {pct(_acc(summary, 'after', 'strict'))}",
            'before → after fine-tuning; the paper\'s grader ("The answer is:")',
        ),
        rk.Stat(
            "GSM8K accuracy, flexible",
            f"{pct(_acc(summary, 'before', 'flexible'))} → "
            f"{pct(_acc(summary, 'after', 'flexible'))}",
            "also the last \\boxed{} or the conclusion of the reply",
        ),
        rk.Stat(
            "rows bootstrapped",
            num(summary.get("train_data", {}).get("bootstrapped", 0)),
            f"+ {num(summary.get('train_data', {}).get('seed_solutions', 0))} seed solutions "
            "trained on",
        ),
    ]
    loss = summary.get("loss")
    if loss:
        out.append(
            rk.Stat("training loss", f"{num(loss[0])} → {num(loss[1])}", "first → last step")
        )
    return out


def accuracy_section(summary: dict[str, Any]) -> rk.Section:
    rows = [
        [
            label,
            pct(_acc(summary, "before", mode)) + interval(summary, "answers_before", mode),
            pct(_acc(summary, "after", mode)) + interval(summary, "answers_after", mode),
        ]
        for mode, label in (("strict", "strict"), ("flexible", "flexible"))
    ]
    expected = [rk.Text(summary["expected"])] if summary.get("expected") else []
    return rk.Section(
        "GSM8K accuracy",
        [
            rk.Table(
                ["grader", "before", "after"],
                rows,
                note="Each score with its 95% interval in brackets (Wilson), in percent.",
            ),
            *expected,
            rk.Notes(
                [
                    (
                        "strict",
                        'only MetaMath\'s answer line counts ("The answer is: 18"): the '
                        "paper's number",
                    ),
                    ("flexible", "also the last `\\boxed{}` or the conclusion of the reply"),
                    (
                        "random weights",
                        "score 0%: answers are free-form numbers, so there is no "
                        "chance level (`metamath tiny-model` builds such a model: it shows the "
                        "plumbing, not the method)",
                    ),
                    (
                        "slice",
                        "the first problems of GSM8K test: a small slice moves by whole "
                        "problems, see each report's 95% interval",
                    ),
                ]
            ),
        ],
    )


def changes_section(summary: dict[str, Any]) -> rk.Section | None:
    """How the student's answers changed with fine-tuning: the trained answer format adopted,
    no answer found, cut off; the first test problem's answer before and after."""
    b, a = summary.get("answers_before"), summary.get("answers_after")
    if not b or not a:
        return None
    rows = [
        [label, pct(b[k], 0), pct(a[k], 0)]
        for label, k in (
            ('answers in the trained format ("The answer is: N")', "answer_format"),
            ("no answer found (flexible grader)", "no_answer"),
            ("cut off at max_tokens", "truncated"),
        )
    ]
    rows.append(["mean answer length (characters)", num(b["mean_chars"]), num(a["mean_chars"])])
    fb, fa = b["first"], a["first"]
    return rk.Section(
        "What changed in the student's answers",
        [
            rk.Table([f"over {b['n']} test problems", "before", "after"], rows),
            rk.Text(f"The first test problem (gold {code(fb['gold'])}):"),
            rk.Code(fb["completion"], f"before ({'correct' if fb['correct'] else 'wrong'})"),
            rk.Code(fa["completion"], f"after ({'correct' if fa['correct'] else 'wrong'})"),
        ],
    )


def examples_section(summary: dict[str, Any]) -> rk.Section:
    """Per technique: the question and the teacher's answer (kept, or the best attempt and why
    it was rejected), and a rewrite the question checks turned away, where there is one."""
    examples, rejected = summary.get("examples", {}), summary.get("rejected_rewrites", {})
    seeds = summary.get("seeds", {})
    blocks: list[Any] = []
    if seeds:
        easy = " with two-step reference solutions" if seeds.get("easy") else ""
        blocks.append(rk.Text(f"Seeds: {seeds.get('count', '?')} GSM8K train problems{easy}."))
    for t in TECHNIQUES:
        ex, rej = examples.get(t), rejected.get(t)
        blocks.append(rk.Text(f"**{NAMES[t]}**"))
        if ex:
            if ex["kept"]:
                verdict = "kept (its answer equals the gold)"
            else:
                got = ex.get("extracted")
                verdict = (
                    f"best attempt, rejected as {ex.get('reason')} ("
                    + (f"extracted {code(got)}" if got is not None else "no answer extracted")
                    + f", needed {code(ex.get('target'))})"
                )
            blocks.append(rk.Code(ex["question"], f"question ({ex.get('type')})"))
            blocks.append(rk.Code(ex["answer"], f"the teacher's answer: {verdict}"))
        if rej:
            blocks.append(
                rk.Code(rej["text"] or "", f"a rewrite the checks turned away as {rej['reason']}")
            )
        if not ex and not rej:
            blocks.append(rk.Text("(nothing generated)"))
    return rk.Section("The method on real text: one example per technique", blocks)


def bootstrap_section(summary: dict[str, Any]) -> rk.Section:
    aug = summary.get("augment", {})
    rows = [[t, v["requests"], v["samples"], v["kept"], pct(v["yield"])] for t, v in aug.items()]
    blocks: list[Any] = [
        rk.Table(
            ["technique", "requests", "samples", "kept", "yield"],
            rows,
            note="Every sampled answer is graded against the gold answer; yield = kept / samples.",
        )
    ]
    zero = [t for t, v in aug.items() if v["samples"] and not v["kept"]]
    if zero:
        blocks.append(
            rk.Text(
                f"**Kept nothing:** {', '.join(zero)} (a random or weak teacher answers wrong; "
                "the data card shows the rejected samples with their reasons)."
            )
        )
    names = {"rephrase": "rephrasings", "sv_rewrite": "SV statements"}
    rewrites = [
        f"{names.get(stage, stage)}: {v.get('generated', 0)} generated, "
        f"{v.get('accepted', 0)} accepted for solving"
        + (f" (rejected: {counts(v['rejected'])})" if v.get("rejected") else "")
        for stage, v in summary.get("augment_rewrites", {}).items()
    ]
    if rewrites:
        blocks.append(rk.Bullets(rewrites))
    return rk.Section("Bootstrapping", blocks)


def training_section(root: Path, summary: dict[str, Any]) -> rk.Section:
    data = summary.get("train_data", {})
    curve = root / "train" / "loss.svg"
    return rk.Section(
        "Fine-tuning (LoRA)",
        [
            rk.Text(
                f"Trained on {num(data.get('bootstrapped', 0))} bootstrapped rows plus "
                f"{num(data.get('seed_solutions', 0))} seed reference solutions (so a run whose "
                f"teacher kept nothing still trains). Model: {code(summary.get('model', ''))}."
            ),
            rk.Figure(curve.read_text(encoding="utf-8"), file="train/loss.svg")
            if curve.exists()
            else rk.Text("(no training curve)"),
        ],
    )


def reports_section(root: Path) -> rk.Section:
    links = [(label, page, md, what) for label, page, md, what in REPORTS if (root / page).exists()]
    missing = [page for _, page, _, _ in REPORTS if not (root / page).exists()]
    blocks: list[Any] = [rk.Links(links)]
    if missing:
        blocks.append(rk.Text("Not written (a step did not finish): " + ", ".join(missing)))
    blocks.append(
        rk.Text(
            "Raw files: `augment/metamathqa.jsonl` (the dataset), `augment/rejected.jsonl` "
            "(every rejection with its reason), `eval_*/samples.jsonl` (every reply, graded), "
            "`summary.json` (this page's numbers)."
        )
    )
    return rk.Section("Reports", blocks)


def sections(root: Path, summary: dict[str, Any]) -> list[rk.Section]:
    changes = changes_section(summary)
    return [
        accuracy_section(summary),
        *([changes] if changes is not None else []),
        examples_section(summary),
        bootstrap_section(summary),
        training_section(root, summary),
        reports_section(root),
    ]


def write_index(root: Path, summary: dict[str, Any]) -> Path:
    """index.html and index.md in the quickstart's run directory."""
    page = rk.Page(
        "metamath quickstart",
        f"teacher {code(summary['teacher'])} · student {code(summary['student'])} · "
        f"{num(summary.get('seconds'), 1)} s in all",
        key=key_numbers(summary),
        sections=sections(root, summary),
    )
    return write_page(page, root, "index")[1]
