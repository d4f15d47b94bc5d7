"""Human reports of an eval run: report.md and a self-contained report.html.

The HTML has no external resource (inline CSS, inline SVG charts drawn here: a bar chart needs
no plotting library, and the file opens offline). Every piece of model output is escaped: model
text is untrusted and may contain markup.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from metamath.io import atomic_write_text

COLORS = {"strict": "#4c72b0", "flexible": "#dd8452"}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _ci(m: dict[str, Any]) -> str:
    lo, hi = m["ci95"]
    return f"[{_pct(lo)}, {_pct(hi)}]"


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
    names = list(groups)
    row_h, bar_h, left, width = 34, 12, 190, 360
    height = 40 + row_h * len(names) + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 70}" '
        f'height="{height}" role="img" aria-label="{html.escape(title)}">',
        f'<text x="4" y="16" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, mode in enumerate(COLORS):
        parts.append(
            f'<rect x="{left + 150 * i}" y="24" width="10" height="10" '
            f'fill="{COLORS[mode]}"/><text x="{left + 14 + 150 * i}" y="33" '
            f'font-size="11">{mode}</text>'
        )
    for j in range(0, 101, 25):
        x = left + width * j / 100
        parts.append(
            f'<line x1="{x}" y1="40" x2="{x}" y2="{height - 16}" stroke="#ddd"/>'
            f'<text x="{x - 8}" y="{height - 4}" font-size="10">{j}%</text>'
        )
    for i, name in enumerate(names):
        y = 44 + row_h * i
        g = groups[name]
        parts.append(
            f'<text x="{left - 6}" y="{y + 16}" font-size="12" text-anchor="end">'
            f"{html.escape(str(name))} (n={g['n']})</text>"
        )
        for k, mode in enumerate(COLORS):
            v = g[mode]
            parts.append(
                f'<rect x="{left}" y="{y + k * (bar_h + 1)}" width="{width * v:.1f}" '
                f'height="{bar_h}" fill="{COLORS[mode]}"><title>{mode} '
                f'{_pct(v)}%</title></rect><text x="{left + width * v + 4:.1f}" '
                f'y="{y + k * (bar_h + 1) + 10}" font-size="10">{_pct(v)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _md_block(text: str) -> str:
    return "````text\n" + (text or "").replace("````", "` ` ` `") + "\n````"


def setup_lines(results: dict[str, Any]) -> list[str]:
    """What produced these numbers: decoding, prompt, code version (for explaining a gap)."""
    cfg, run = results.get("config", {}), results.get("run", {})
    d = cfg.get("decoding", {})
    stop = ", ".join(map(repr, results.get("stop") or [])) or "none (end of sequence only)"
    return [
        f"decoding: temperature {d.get('temperature')}, top_p {d.get('top_p')}, n {d.get('n')}, "
        f"seed {d.get('seed')}, max_tokens {d.get('max_tokens') or 'per task (512 GSM8K, 2048 MATH)'}"
        f", stop: {stop}",
        f"prompt: {cfg.get('prompt_style')}"
        + (f" ({cfg.get('alpaca_style')})" if cfg.get("prompt_style") == "alpaca" else ""),
        f"metamath {run.get('metamath_version')} (git {str(run.get('git_sha'))[:10]}), "
        f"elapsed {results.get('elapsed_s')} s, usage {results.get('usage')}",
        "reasons: correct; mismatch (an answer, not equal to the gold); no_answer (nothing "
        "extracted); error (request failed or bad gold); timeout/too_long (symbolic check)",
    ]


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
        f"Grader audit: math-verify accepts {_pct(a['math_verify_correct'] / max(1, a['n']))}%; "
        f"the graders disagree on {a['ours_only'] + a['math_verify_only']} of {a['n']} samples "
        f"(only ours accepts {a['ours_only']}, only math-verify accepts {a['math_verify_only']})"
    )


def _audit_md(results: dict[str, Any], rows: list[dict[str, Any]], task: str, k: int) -> list[str]:
    a = (results.get("grader_audit") or {}).get(task)
    if not a:
        return []
    out = ["", "### Grader audit: ours vs math-verify", "", audit_line(a)]
    for r in audit_rows(rows, task, k):
        out += [
            "",
            f"**{r['id']}**: gold `{r['gold']}`; ours `{r['extracted']}` "
            f"({'correct' if r['correct'] else r['reason']}); math-verify "
            f"`{r['math_verify']['extracted']}` "
            f"({'correct' if r['math_verify']['correct'] else 'wrong'})",
            "",
            _md_block((r["completion"] or "")[-600:]),
        ]
    return out


def render_md(results: dict[str, Any], rows: list[dict[str, Any]], examples: int = 5) -> str:
    p = results["primary"]
    out = [
        f"# Evaluation: {results['model']}",
        "",
        f"backend `{results['backend']}`, prompt style `{results['prompt_style']}`, primary "
        f"score `{p}` (the `correct` column of samples.jsonl)",
        "",
        *[f"- {line}" for line in setup_lines(results)],
        "",
        "| task | version | n | strict % | flexible % | primary 95% CI | no answer % | "
        "truncated % | errors % |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, t in results["tasks"].items():
        m = t["metrics"]
        out.append(
            f"| {name} | {t['version']} ({t['content_hash'][:8]}) | {m['n_problems']} | "
            f"{_pct(m['strict']['accuracy'])} | {_pct(m['flexible']['accuracy'])} | "
            f"{_ci(m[p])} | {_pct(m[p]['no_answer_rate'])} | "
            f"{_pct(m['truncated_rate'])} | {_pct(m['error_rate'])} |"
        )
    for name, t in results["tasks"].items():
        m = t["metrics"]
        out += [
            "",
            f"## {name}",
            "",
            f"reasons ({p}): " + ", ".join(f"{k} {v}" for k, v in m[p]["reasons"].items()),
        ]
        if "pass@k" in m[p]:
            out.append("")
            out.append(
                " ".join(f"pass@{k} {_pct(v)}" for k, v in m[p]["pass@k"].items())
                + "; "
                + " ".join(f"maj@{k} {_pct(v)}" for k, v in m[p]["maj@k"].items())
            )
        for key, title in (("by_subject", "subject"), ("by_level", "level")):
            if key in m:
                out += [
                    "",
                    f"| {title} | n | strict % | flexible % | {p} 95% CI |",
                    "|---|---|---|---|---|",
                ]
                out += [
                    f"| {g} | {v['n']} | {_pct(v['strict'])} | {_pct(v['flexible'])} | "
                    f"{_ci({'ci95': v[p + '_ci95']}) if p + '_ci95' in v else '-'} |"
                    for g, v in m[key].items()
                ]
        for kind, rs in failures(rows, name, examples).items():
            out += ["", f"### Failures: {kind}"]
            for r in rs:
                out += [
                    "",
                    f"**{r['id']}**: gold `{r['gold']}`, extracted `{r['extracted']}` "
                    f"({r['reason']})",
                    "",
                    _md_block(r["completion"] or f"request error: {r.get('error')}"),
                ]
        out += _audit_md(results, rows, name, examples)
    return "\n".join(out) + "\n"


CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
    "text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}"
    "pre{white-space:pre-wrap;background:#f7f7f7;padding:8px;max-height:300px;overflow:auto}"
    ".fail{border-left:3px solid #c44;padding-left:10px;margin:1em 0}"
)


def _table(head: list[str], body: list[list[Any]]) -> str:
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    trs = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in body
    )
    return f"<table><tr>{th}</tr>{trs}</table>"


def render_html(results: dict[str, Any], rows: list[dict[str, Any]], examples: int = 5) -> str:
    p, e = results["primary"], html.escape
    body = [
        f"<h1>Evaluation: {e(str(results['model']))}</h1>",
        f"<p>backend <code>{e(results['backend'])}</code>, prompt style "
        f"<code>{e(results['prompt_style'])}</code>, primary score <code>{p}</code></p>",
        "<ul>" + "".join(f"<li>{e(line)}</li>" for line in setup_lines(results)) + "</ul>",
    ]
    summary = [
        [
            n,
            f"{t['version']} ({t['content_hash'][:8]})",
            t["metrics"]["n_problems"],
            _pct(t["metrics"]["strict"]["accuracy"]),
            _pct(t["metrics"]["flexible"]["accuracy"]),
            _ci(t["metrics"][p]),
            _pct(t["metrics"][p]["no_answer_rate"]),
            _pct(t["metrics"]["truncated_rate"]),
            _pct(t["metrics"]["error_rate"]),
        ]
        for n, t in results["tasks"].items()
    ]
    body.append(
        _table(
            [
                "task",
                "version",
                "n",
                "strict %",
                "flexible %",
                f"{p} 95% CI",
                "no answer %",
                "truncated %",
                "errors %",
            ],
            summary,
        )
    )
    for name, t in results["tasks"].items():
        m = t["metrics"]
        body.append(f"<h2>{e(name)}</h2>")
        body.append(_table(["reason", "count"], sorted(m[p]["reasons"].items())))
        if "pass@k" in m[p]:
            body.append(
                _table(
                    ["k", "pass@k %", "maj@k %"],
                    [[k, _pct(v), _pct(m[p]["maj@k"][k])] for k, v in m[p]["pass@k"].items()],
                )
            )
        for key, title in (
            ("by_subject", "accuracy by subject"),
            ("by_level", "accuracy by level"),
        ):
            if key in m:
                body.append(bar_chart_svg(f"{name}: {title}", m[key]))
        for kind, rs in failures(rows, name, examples).items():
            body.append(f"<h3>Failures: {e(kind)}</h3>")
            for r in rs:
                body.append(
                    f'<div class="fail"><b>{e(r["id"])}</b>: gold <code>{e(str(r["gold"]))}'
                    f"</code>, extracted <code>{e(str(r['extracted']))}</code> "
                    f"({e(r['reason'])})<details><summary>prompt</summary><pre>"
                    f"{e(r['prompt'])}</pre></details><pre>"
                    f"{e(r['completion'] or 'request error: ' + str(r.get('error')))}</pre></div>"
                )
        a = (results.get("grader_audit") or {}).get(name)
        if a:
            body.append(f"<h3>Grader audit: ours vs math-verify</h3><p>{e(audit_line(a))}</p>")
            for r in audit_rows(rows, name, examples):
                body.append(
                    f'<div class="fail"><b>{e(r["id"])}</b>: gold <code>{e(str(r["gold"]))}'
                    f"</code>, ours <code>{e(str(r['extracted']))}</code> "
                    f"({'correct' if r['correct'] else e(r['reason'])}), math-verify <code>"
                    f"{e(str(r['math_verify']['extracted']))}</code> "
                    f"({'correct' if r['math_verify']['correct'] else 'wrong'})<pre>"
                    f"{e((r['completion'] or '')[-600:])}</pre></div>"
                )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>metamath eval</title>"
        f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write_reports(
    results: dict[str, Any], rows: list[dict[str, Any]], run_dir: str | Path, examples: int = 5
) -> tuple[Path, Path]:
    run_dir = Path(run_dir)
    md, page = run_dir / "report.md", run_dir / "report.html"
    atomic_write_text(md, render_md(results, rows, examples))
    atomic_write_text(page, render_html(results, rows, examples))
    return md, page
