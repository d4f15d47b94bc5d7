"""Reports a person reads: one page model, rendered as Markdown (terminals, PRs) and as one
self-contained HTML file (inline CSS and SVG, no script, no external resource).

    page = Page("Evaluation: my-model", "backend `hf`", key=[Stat("GSM8K strict", "41.7%", "...")],
                sections=[Section("Per task", [Table(["task", "n"], [["gsm8k", 12]])])])
    write_page(page, run_dir, "report")            # report.md and report.html

A stage's report is a list of Sections built by one function per section, so a new section is
one more function appended to that list. Text blocks take a small inline markup: `code`,
**bold** and [label](relative/link.html); everything is escaped first, and a link must be a
relative path or an anchor, so untrusted text (model output) can never inject markup or reach
the network. Hand-written instead of a template engine: the markup is tiny and the pages must
render offline with no dependency.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metamath.io import atomic_write_text


@dataclass
class Stat:
    """A key number at the top of a page: label, value and what it means."""

    label: str
    value: str
    note: str = ""


@dataclass
class Text:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Notes:
    """Definitions of the terms and numbers a section uses: (term, meaning)."""

    items: list[tuple[str, str]]


@dataclass
class Table:
    head: list[str]
    rows: list[list[Any]]
    note: str = ""  # under the table: what its columns mean


@dataclass
class Code:
    """Preformatted text (model output, configs): escaped, wrapped, never interpreted."""

    text: str
    label: str = ""
    collapsed: bool = False  # HTML: folded behind the label
    md: bool = True  # False: HTML only (e.g. the prompt behind each failure)


@dataclass
class Figure:
    svg: str  # inline SVG (HTML)
    caption: str = ""
    file: str = ""  # the same plot as a file beside the Markdown report ("" = HTML only)


@dataclass
class Links:
    """(label, html target, markdown target or "", note) per item."""

    items: list[tuple[str, str, str, str]]


@dataclass
class Section:
    title: str
    blocks: list[Any] = field(default_factory=list)
    id: str = ""

    def anchor(self) -> str:
        return self.id or re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")


@dataclass
class Page:
    title: str
    subtitle: str = ""
    key: list[Stat] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


# ---------------------------------------------------------------- value formatting


def pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def num(x: float | int | None, digits: int = 4) -> str:
    """A number for people: thousands separators, at most `digits` decimals, no float noise
    (7.612084865570068 -> "7.6121", 29097.3 -> "29,097", 2e-05 -> "2e-05")."""
    if x is None:
        return "n/a"
    if isinstance(x, int) or abs(x) >= 1000:
        return f"{round(x):,}"
    if x and abs(x) < 0.01:
        return f"{x:.3g}"
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") or "0"


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def counts(d: dict[str, int], empty: str = "none") -> str:
    """{"mismatch": 7, "no_answer": 1} -> "mismatch 7, no_answer 1" (never a Python dict)."""
    return ", ".join(f"{k}\u00a0{v:,}" for k, v in d.items()) or empty  # no break inside


def code(s: Any) -> str:
    """Inline code for a value that may be untrusted (a backtick would end the span early)."""
    return "`" + str(s).replace("`", "'").replace("\n", " ") + "`"


# ---------------------------------------------------------------- inline markup

_SPAN = re.compile(r"`([^`]*)`|\*\*(.+?)\*\*|\[([^\]]+)\]\(([A-Za-z0-9_./#-]+)\)")


def _text(s: str) -> str:
    """Escape a text node: &, < and > only; quotes need escaping only inside attributes."""
    return html.escape(s, quote=False)


def inline_html(s: str) -> str:
    out, pos = [], 0
    for m in _SPAN.finditer(s):
        out.append(_text(s[pos : m.start()]))
        if m.group(1) is not None:
            out.append(f"<code>{_text(m.group(1))}</code>")
        elif m.group(2) is not None:
            out.append(f"<b>{_text(m.group(2))}</b>")
        elif ":" not in m.group(4):  # relative links and anchors only
            out.append(f'<a href="{html.escape(m.group(4))}">{_text(m.group(3))}</a>')
        else:
            out.append(_text(m.group(0)))
        pos = m.end()
    out.append(_text(s[pos:]))
    return "".join(out)


def _md_cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


# ---------------------------------------------------------------- Markdown


def _md_block(b: Any) -> list[str]:
    if isinstance(b, Text):
        return [b.text, ""]
    if isinstance(b, Bullets):
        return [f"- {i}" for i in b.items] + [""]
    if isinstance(b, Notes):
        return [f"- **{t}**: {d}" for t, d in b.items] + [""]
    if isinstance(b, Table):
        out = ["| " + " | ".join(map(_md_cell, b.head)) + " |", "|" + "---|" * len(b.head)]
        out += ["| " + " | ".join(map(_md_cell, r)) + " |" for r in b.rows]
        return out + ([""] + [b.note] if b.note else []) + [""]
    if isinstance(b, Code):
        if not b.md:
            return []
        fence = "````" if "```" in b.text else "```"
        text = b.text.replace("````", "` ` ` `")
        return ([f"{b.label}:", ""] if b.label else []) + [f"{fence}text", text, fence, ""]
    if isinstance(b, Figure):
        return [f"![{b.caption}]({b.file})", ""] if b.file else []
    if isinstance(b, Links):
        return [
            f"- [{label}]({md or target})" + (f": {note}" if note else "")
            for label, target, md, note in b.items
        ] + [""]
    raise TypeError(f"unknown report block {type(b).__name__}")


def render_md(page: Page) -> str:
    out = [f"# {page.title}", ""]
    if page.subtitle:
        out += [page.subtitle, ""]
    if page.key:
        out += [
            f"- **{s.label}: {s.value}**" + (f" ({s.note})" if s.note else "") for s in page.key
        ]
        out.append("")
    for sec in page.sections:
        out += [f"## {sec.title}", ""]
        for b in sec.blocks:
            out += _md_block(b)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- HTML

CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--accent:#0969da}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
 max-width:1040px;margin:0 auto;padding:20px 28px 60px;overflow-wrap:break-word}
h1{font-size:1.65em;margin:.3em 0 .1em}h2{font-size:1.3em;margin:1.6em 0 .4em;
 padding-bottom:.2em;border-bottom:1px solid var(--line)}
.sub{color:var(--muted);margin:0 0 1em}
.keys{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0 6px}
.key{flex:1 1 180px;max-width:320px;border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.key .l{color:var(--muted);font-size:.85em}.key .v{font-size:1.45em;font-weight:600;line-height:1.3}
.key .n{color:var(--muted);font-size:.8em;line-height:1.35}
nav{font-size:.9em;color:var(--muted);margin:10px 0}nav a{margin-right:12px}
a{color:var(--accent)}
.tw{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:6px 0;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:right;vertical-align:top}
th{background:var(--soft);font-weight:600}.t{text-align:left}
.note,figcaption{color:var(--muted);font-size:.88em;margin:4px 0 10px}
dl{margin:6px 0;font-size:.92em}dt{font-weight:600;float:left;clear:left;margin-right:.5em}
dd{margin:0 0 3px 0}
code{background:var(--soft);border-radius:4px;padding:0 4px;overflow-wrap:anywhere;
 font-size:.92em}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:8px 10px;
 white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;max-height:320px;
 overflow-y:auto;overflow-x:hidden;font-size:12.5px;margin:4px 0 12px}
.lab{font-size:.88em;color:var(--muted);margin-top:8px}
details summary{cursor:pointer;color:var(--muted);font-size:.9em}
figure{margin:8px 0}svg{max-width:100%;height:auto}
"""


_NUMBER = r"[-+]?\$?[\d,]*\.?\d+(?:e-?\d+)?%?"
_NUMERIC = re.compile(rf"{_NUMBER}(?:\s*[–/]\s*{_NUMBER})?|n/a|-|all")


def _html_block(b: Any) -> str:
    e = inline_html
    if isinstance(b, Text):
        return f"<p>{e(b.text)}</p>"
    if isinstance(b, Bullets):
        return "<ul>" + "".join(f"<li>{e(i)}</li>" for i in b.items) + "</ul>"
    if isinstance(b, Notes):
        return "<dl>" + "".join(f"<dt>{e(t)}:</dt><dd>{e(d)}</dd>" for t, d in b.items) + "</dl>"
    if isinstance(b, Table):
        # numbers right-aligned (they compare by their digits), text left-aligned
        cls = [
            ""
            if b.rows and all(_NUMERIC.fullmatch(str(r[i]).strip()) for r in b.rows)
            else ' class="t"'
            for i in range(len(b.head))
        ]
        head = "".join(f"<th{c}>{e(str(h))}</th>" for c, h in zip(cls, b.head, strict=True))
        body = "".join(
            "<tr>"
            + "".join(f"<td{c}>{e(str(v))}</td>" for c, v in zip(cls, r, strict=True))
            + "</tr>"
            for r in b.rows
        )
        note = f'<p class="note">{e(b.note)}</p>' if b.note else ""
        return f'<div class="tw"><table><tr>{head}</tr>{body}</table></div>{note}'
    if isinstance(b, Code):
        pre = f"<pre>{_text(b.text)}</pre>"
        if b.collapsed:
            return f"<details><summary>{e(b.label or 'show')}</summary>{pre}</details>"
        return (f'<div class="lab">{e(b.label)}</div>' if b.label else "") + pre
    if isinstance(b, Figure):
        cap = f"<figcaption>{e(b.caption)}</figcaption>" if b.caption else ""
        return f"<figure>{b.svg}{cap}</figure>"
    if isinstance(b, Links):
        return (
            "<ul>"
            + "".join(
                f"<li>{e(f'[{label}]({target})')}" + (f": {e(note)}" if note else "") + "</li>"
                for label, target, _, note in b.items
            )
            + "</ul>"
        )
    raise TypeError(f"unknown report block {type(b).__name__}")


def render_html(page: Page) -> str:
    e = inline_html
    parts = [f"<h1>{e(page.title)}</h1>"]
    if page.subtitle:
        parts.append(f'<p class="sub">{e(page.subtitle)}</p>')
    if page.key:
        parts.append(
            '<div class="keys">'
            + "".join(
                f'<div class="key"><div class="l">{e(s.label)}</div><div class="v">'
                f"{e(s.value)}</div>"
                + (f'<div class="n">{e(s.note)}</div>' if s.note else "")
                + "</div>"
                for s in page.key
            )
            + "</div>"
        )
    if len(page.sections) > 2:
        parts.append(
            "<nav>"
            + "".join(f'<a href="#{s.anchor()}">{_text(s.title)}</a>' for s in page.sections)
            + "</nav>"
        )
    for sec in page.sections:
        parts.append(f'<h2 id="{sec.anchor()}">{_text(sec.title)}</h2>')
        parts += [_html_block(b) for b in sec.blocks]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_text(page.title)}</title><style>{CSS}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>\n"
    )


def write_page(page: Page, run_dir: str | Path, stem: str) -> tuple[Path, Path]:
    """stem.md and stem.html in run_dir."""
    run_dir = Path(run_dir)
    md, page_html = run_dir / f"{stem}.md", run_dir / f"{stem}.html"
    atomic_write_text(md, render_md(page))
    atomic_write_text(page_html, render_html(page))
    return md, page_html
