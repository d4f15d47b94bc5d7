"""Human reports of an eval run: report.md (terminals, PRs) and a self-contained report.html,
both rendered from one metamath.report.Page.

The page opens with the key numbers (each task's primary score with its interval), then the
scores table, one section per task (reasons under both graders, breakdowns, failures) and the
setup. `sections()` lists the sections in order: a new one is one more function there. Every
piece of model output is escaped by the renderer: model text is untrusted and may hold markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from metamath import report as rk
from metamath.plots import bar_chart
from metamath.report import code, counts, num, plural, write_page

COLORS = {"strict": "#4c72b0", "flexible": "#dd8452"}

GLOSSARY = [
    (
        "strict",
        'explicit answer markers only ("The answer is:", "The value of x is", "####", '
        '"Answer:", "Final answer", "The final answer is $X$" and their translations)',
    ),
    (
        "flexible",
        "strict, plus the last `\\boxed{}`, then the reply's conclusion (its last math "
        "expression or final `= X`)",
    ),
    (
        "primary",
        "the grader behind the `correct` column of samples.jsonl: strict for the alpaca "
        "prompt (the paper's number), flexible for chat and few-shot prompts",
    ),
    (
        "95% CI",
        "Wilson score interval of the accuracy (a paired bootstrap with several samples "
        "per problem); a small slice gives a wide interval",
    ),
    (
        "no answer",
        "the grader found no final answer in the reply (it did not use the marker, for strict)",
    ),
    ("truncated", "the reply stopped at max_tokens, so its end is missing"),
    ("errors", "the request failed (after retries) or the gold answer was unusable"),
    (
        "random weights",
        "a model with random weights scores about 0%: answers are free-form, so "
        "there is no chance level to beat",
    ),
]
REASONS = [
    ("correct", "the extracted answer equals the gold"),
    ("mismatch", "an answer was extracted and differs from the gold"),
    ("no_answer", "nothing was extracted"),
    ("error", "request failed or bad gold"),
    ("timeout / too_long", "the symbolic check ran out of time / the answer was too long to check"),
]


FAILURE_KINDS = {
    "mismatch": "wrong answer",
    "no_answer": "no answer found",
    "truncated": "cut off at max tokens",
    "other": "errors",
}


def _p(x: float) -> str:
    return f"{100 * x:.1f}"


def _ci(m: dict[str, Any]) -> str:
    lo, hi = m["ci95"]
    return f"{_p(lo)}–{_p(hi)}"


def failures(rows: list[dict[str, Any]], task: str, k: int) -> dict[str, list[dict[str, Any]]]:
    """Up to k failing samples per kind (wrong answer, no answer, truncated), in file order."""
    out: dict[str, list[dict[str, Any]]] = {
        "mismatch": [],
        "no_answer": [],
        "truncated": [],
        "other": [],
    }
    for r in rows:
        if (r.get("eval_task") or r["task"]) != task or r["correct"]:
            continue
        kind = (
            "truncated"
            if r.get("finish_reason") == "length"
            else r["reason"]
            if r["reason"] in ("mismatch", "no_answer")
            else "other"
        )
        if len(out[kind]) < k:
            out[kind].append(r)
    return {kind: v for kind, v in out.items() if v}


def bar_chart_svg(title: str, groups: dict[str, dict[str, Any]]) -> str:
    """Horizontal grouped bars (strict and flexible accuracy) per group, as inline SVG."""
    return bar_chart(title, groups, COLORS)


def key_numbers(results: dict[str, Any]) -> list[rk.Stat]:
    p = results["primary"]
    out = []
    for name, t in results["tasks"].items():
        m = t["metrics"]
        out.append(
            rk.Stat(
                f"{name} accuracy ({p})",
                f"{_p(m[p]['accuracy'])}%",
                f"95% CI {_ci(m[p])} · {'strict' if p == 'flexible' else 'flexible'} "
                f"{_p(m['flexible' if p == 'strict' else 'strict']['accuracy'])}% · "
                f"n={m['n_problems']}",
            )
        )
    return out


def scores_section(results: dict[str, Any]) -> rk.Section:
    p = results["primary"]
    rows = []
    for name, t in results["tasks"].items():
        m = t["metrics"]
        rows.append(
            [
                name,
                m["n_problems"],
                _p(m["strict"]["accuracy"]),
                _p(m["flexible"]["accuracy"]),
                _ci(m[p]),
                _p(m["strict"]["no_answer_rate"]),
                _p(m["flexible"]["no_answer_rate"]),
                _p(m["truncated_rate"]),
                _p(m["error_rate"]),
            ]
        )
    table = rk.Table(
        [
            "task",
            "n",
            "strict %",
            "flexible %",
            f"{p} 95% CI",
            "no answer % (strict)",
            "no answer % (flexible)",
            "truncated %",
            "errors %",
        ],
        rows,
        note=f"Primary score: **{p}**. Percentages of "
        + ("samples (several per problem)." if _multi(results) else "problems."),
    )
    blocks: list[Any] = [table]
    for name, t in results["tasks"].items():
        if not t.get("size_ok", True):
            blocks.append(
                rk.Text(
                    f"**{name}** has {t['n_problems']} problems, expected {t['expected_size']}: "
                    "scores are not comparable to the paper's."
                )
            )
    return rk.Section("Scores", blocks + [rk.Notes(GLOSSARY)])


def _multi(results: dict[str, Any]) -> bool:
    return any(t["metrics"].get("samples_per_problem", 1) > 1 for t in results["tasks"].values())


def task_section(name: str, t: dict[str, Any], rows: list[dict[str, Any]], p: str, k: int):
    m = t["metrics"]
    reasons = sorted(set(m["strict"]["reasons"]) | set(m["flexible"]["reasons"]))
    blocks: list[Any] = [
        rk.Table(
            ["reason", "strict", "flexible"],
            [
                [r, m["strict"]["reasons"].get(r, 0), m["flexible"]["reasons"].get(r, 0)]
                for r in reasons
            ],
            note="Samples by the grader's verdict, under each grader. "
            + "; ".join(f"**{r}**: {d}" for r, d in REASONS)
            + ".",
        )
    ]
    if "pass@k" in m[p]:
        blocks.append(
            rk.Table(
                ["k", "pass@k %", "maj@k %"],
                [[kk, _p(v), _p(m[p]["maj@k"].get(kk, 0))] for kk, v in m[p]["pass@k"].items()],
                note=f"{p} grader: pass@k = some of k samples is right (unbiased estimator); "
                "maj@k = the most frequent answer of k samples is right.",
            )
        )
    for key, title in (("by_subject", "subject"), ("by_level", "level")):
        if key in m:
            blocks.append(rk.Figure(bar_chart_svg(f"{name}: accuracy by {title}", m[key])))
            blocks.append(
                rk.Table(
                    [title, "n", "strict %", "flexible %", f"{p} 95% CI"],
                    [
                        [g, v["n"], _p(v["strict"]), _p(v["flexible"])]
                        + [_ci({"ci95": v[p + "_ci95"]}) if p + "_ci95" in v else "-"]
                        for g, v in m[key].items()
                    ],
                )
            )
    for kind, rs in failures(rows, name, k).items():
        blocks.append(
            rk.Text(f"**Failures: {FAILURE_KINDS[kind]}** ({p} grader; the first {len(rs)})")
        )
        for r in rs:
            if r["reason"] == "error":
                got = "request failed"
            elif r.get("extracted") is None:
                got = "no answer extracted"
            else:
                got = f"extracted {code(r['extracted'])}"
            blocks.append(
                rk.Code(
                    r["completion"] or f"request error: {r.get('error')}",
                    f"**{r['id']}**: gold {code(r['gold'])}, {got} ({r['reason']})",
                )
            )
            blocks.append(rk.Code(r["prompt"], "the prompt", collapsed=True, md=False))
    return rk.Section(name, blocks, id=f"task-{name}")


def audit_rows(rows: list[dict[str, Any]], task: str, k: int) -> list[dict[str, Any]]:
    """Up to k samples where our verdict (`correct`) and math-verify's differ (grader audit)."""
    out = []
    for r in rows:
        mv = r.get("math_verify")
        if mv and (r.get("eval_task") or r["task"]) == task and bool(r["correct"]) != mv["correct"]:
            out.append(r)
            if len(out) == k:
                break
    return out


def audit_line(a: dict[str, Any]) -> str:
    """One sentence: how often math-verify accepts and where the two graders differ."""
    return (
        f"math-verify accepts {_p(a['math_verify_correct'] / max(1, a['n']))}% of the samples; "
        f"the graders disagree on {a['ours_only'] + a['math_verify_only']} of {a['n']} samples "
        f"(only ours accepts {a['ours_only']}, only math-verify accepts {a['math_verify_only']})."
    )


def audit_section(results: dict[str, Any], rows: list[dict[str, Any]], k: int) -> rk.Section | None:
    """Grader audit: every sample also graded by math-verify; where the two differ, the first
    k per task with both extractions, so a score is checked before it is trusted."""
    audit = results.get("grader_audit") or {}
    if not audit:
        return None
    blocks: list[Any] = [
        rk.Text(
            "Every sample was also graded by math-verify (`verify(parse(gold), "
            "parse(completion))`, the gold read as LaTeX). Where the two graders differ, read "
            "the completion: the disagreements say which grader to trust on this model's style."
        )
    ]
    for task, a in audit.items():
        blocks.append(rk.Text(f"**{task}**: {audit_line(a)}"))
        for r in audit_rows(rows, task, k):
            mv = r["math_verify"]
            ours = code(r["extracted"]) if r["extracted"] is not None else "no answer"
            theirs = code(mv["extracted"]) if mv["extracted"] is not None else "no answer"
            blocks.append(
                rk.Code(
                    (r["completion"] or "")[-600:],
                    f"**{r['id']}**: gold {code(r['gold'])}; ours {ours} "
                    f"({'correct' if r['correct'] else r['reason']}); math-verify {theirs} "
                    f"({'correct' if mv['correct'] else 'wrong'})",
                )
            )
    return rk.Section("Grader audit: ours vs math-verify", blocks, id="grader-audit")


def setup_section(results: dict[str, Any]) -> rk.Section:
    """What produced these numbers: decoding, prompt, data versions, code version."""
    cfg, run, u = results.get("config", {}), results.get("run", {}), results.get("usage", {})
    d = cfg.get("decoding", {})
    stop = ", ".join(code(s) for s in results.get("stop") or []) or "none (end of sequence)"
    style = cfg.get("prompt_style") or results.get("prompt_style")
    rows = [
        ["model", code(results["model"])],
        ["backend", results["backend"]],
        ["prompt", style + (f" ({cfg.get('alpaca_style')})" if style == "alpaca" else "")],
        [
            "decoding",
            f"temperature {d.get('temperature')}, top_p {d.get('top_p')}, "
            f"{plural(d.get('n') or 1, 'sample')} per problem, seed {d.get('seed')}",
        ],
        ["max tokens", d.get("max_tokens") or "per task (512 GSM8K, 2048 MATH)"],
        ["stop strings", stop],
        [
            "tokens",
            f"{num(u.get('prompt_tokens', 0))} prompt + {num(u.get('completion_tokens', 0))} "
            f"completion; {num(u.get('cached', 0))} samples from the cache; "
            f"{plural(u.get('errors', 0), 'failed request')}",
        ],
        ["elapsed", f"{num(results.get('elapsed_s'), 1)} s"],
        [
            "code",
            f"metamath {run.get('metamath_version')}"
            + (f" (git {str(run['git_sha'])[:10]})" if run.get("git_sha") else ""),
        ],
    ]
    data = [
        [name, t["version"], code(t["content_hash"][:8]), t["n_problems"]]
        + [t["expected_size"] or "-"]
        for name, t in results["tasks"].items()
    ]
    return rk.Section(
        "Setup",
        [
            rk.Table(["setting", "value"], rows),
            rk.Table(
                ["task", "version", "content hash", "problems", "full size"],
                data,
                note="Two runs scored the same problems exactly when version and content hash "
                "agree.",
            ),
        ],
    )


def sections(
    results: dict[str, Any], rows: list[dict[str, Any]], examples: int
) -> list[rk.Section]:
    p = results["primary"]
    out = [scores_section(results)]
    out += [task_section(n, t, rows, p, examples) for n, t in results["tasks"].items()]
    audit = audit_section(results, rows, examples)
    out += [audit] if audit is not None else []
    out.append(setup_section(results))
    return out


def build_page(results: dict[str, Any], rows: list[dict[str, Any]], examples: int = 5) -> rk.Page:
    return rk.Page(
        f"Evaluation: {results['model']}",
        f"backend `{results['backend']}` · prompt style `{results['prompt_style']}` · primary "
        f"score `{results['primary']}` · {counts({n: t['n_problems'] for n, t in results['tasks'].items()})} problems",
        key=key_numbers(results),
        sections=sections(results, rows, examples),
    )


def write_reports(
    results: dict[str, Any], rows: list[dict[str, Any]], run_dir: str | Path, examples: int = 5
) -> tuple[Path, Path]:
    """report.md and report.html in run_dir."""
    return write_page(build_page(results, rows, examples), run_dir, "report")
