"""metamath.report (one page -> Markdown + self-contained HTML) and metamath.plots (SVG)."""

from __future__ import annotations

import math
import re

import pytest

from metamath.plots import Ref, Series, line_plot, nice_ticks
from metamath.report import (
    Code,
    Links,
    Page,
    Section,
    Stat,
    Table,
    Text,
    counts,
    inline_html,
    num,
    plural,
    render_html,
    render_md,
)
from metamath.train.report import loss_svg


@pytest.mark.parametrize(
    "value, shown",
    [
        (7.612084865570068, "7.6121"),  # a loss: no 16-digit float
        (29097.3, "29,097"),  # tokens/s
        (368960, "368,960"),
        (2e-05, "2e-05"),  # a learning rate keeps its digits
        (0.5, "0.5"),
        (0, "0"),
        (0.0, "0"),
        (None, "n/a"),
    ],
)
def test_num(value, shown):
    assert num(value) == shown


def test_counts_and_plural_read_as_words():
    assert counts({"mismatch": 7, "no_answer": 1}) == "mismatch\u00a07, no_answer\u00a01"
    assert counts({}) == "none" and counts({}, "-") == "-"
    assert plural(1, "process", "processes") == "1 process"
    assert plural(2, "process", "processes") == "2 processes"
    assert plural(1, "sample") == "1 sample" and plural(1200, "sample") == "1,200 samples"


@pytest.mark.parametrize(
    "text, html",
    [
        ("gold `18`", "gold <code>18</code>"),
        ("**Zero yield**: x", "<b>Zero yield</b>: x"),
        ("[card](augment/DATA_CARD.html)", '<a href="augment/DATA_CARD.html">card</a>'),
        ("[top](#scores)", '<a href="#scores">top</a>'),
        # untrusted text cannot make a link that leaves the page or runs code
        ("[x](javascript:alert(1))", "[x](javascript:alert(1))"),
        ("[x](http://evil.example/a)", "[x](http://evil.example/a)"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("`<b>`", "<code>&lt;b&gt;</code>"),
    ],
)
def test_inline_markup_is_escaped_first(text, html):
    assert inline_html(text) == html


PAGE = Page(
    "Report",
    "sub `x`",
    key=[Stat("accuracy", "41.7%", "strict")],
    sections=[
        Section(
            "Numbers",
            [
                Table(["name", "n", "share"], [["a|b", 3, "50.0%"], ["c", 10, "n/a"]], note="n."),
                Code("```\nraw ``` text", "reply"),
                Code("prompt text", "prompt", collapsed=True, md=False),
                Links([("Card", "card.html", "card.md", "what it shows")]),
                Text("done"),
            ],
        )
    ],
)


def test_markdown_page():
    md = render_md(PAGE)
    assert md.startswith("# Report\n\nsub `x`\n\n- **accuracy: 41.7%** (strict)\n")
    assert "| a\\|b | 3 | 50.0% |" in md  # a pipe in a cell does not split the row
    assert "````text\n```\nraw ``` text\n````" in md  # fences longer than the text's
    assert "prompt text" not in md  # HTML-only block
    assert "- [Card](card.md): what it shows" in md  # the Markdown twin is linked from Markdown


def test_html_page_numbers_right_text_left():
    page = render_html(PAGE)
    assert '<th class="t">name</th><th>n</th><th>share</th>' in page
    assert '<td class="t">a|b</td><td>3</td><td>50.0%</td>' in page
    assert '<a href="card.html">Card</a>' in page
    assert "<details><summary>prompt</summary><pre>prompt text</pre></details>" in page
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")


@pytest.mark.parametrize(
    "lo, hi, ticks",
    [
        (0, 7.64, [0, 2, 4, 6, 8]),
        (0, 0.93, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (1, 30, [0, 10, 20, 30]),
        (0, 0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    ],
)
def test_nice_ticks(lo, hi, ticks):
    assert nice_ticks(lo, hi) == pytest.approx(ticks)


def _ys(svg: str) -> list[float]:
    pts = re.search(r'<polyline[^>]*points="([^"]+)"', svg).group(1)
    return [float(p.split(",")[1]) for p in pts.split()]


def test_loss_noise_near_ln_vocab_stays_flat_against_a_labelled_baseline():
    # the quickstart's tiny random model: 7.6307 -> 7.6121 over 10 steps, vocabulary 2,048
    rows = [{"step": i + 1, "loss": 7.6307 - 0.00207 * i} for i in range(10)]
    svg = loss_svg(rows, vocab_size=2048)
    ys = _ys(svg)
    plot_h = 320 - 34 - 46
    assert (max(ys) - min(ys)) / plot_h < 0.01  # noise is not drawn as a swing
    assert f"ln V = {math.log(2048):.2f}" in svg and "uniform guess over 2,048 tokens" in svg
    assert ">0</text>" in svg and ">8</text>" in svg  # the axis runs 0..8
    assert "loss (nats per token)" in svg and ">step</text>" in svg


def test_fine_tune_loss_gets_a_zero_based_axis_without_the_far_baseline():
    rows = [{"step": s, "loss": 1.2 * 0.9**s} for s in range(1, 31)]
    svg = loss_svg(rows, vocab_size=151_936)  # ln V = 11.9 would squash this curve
    assert "ln V" not in svg
    ys = _ys(svg)
    assert (max(ys) - min(ys)) / (320 - 34 - 46) > 0.5  # the descent fills the plot


def test_line_plot_with_nothing_logged():
    assert "nothing logged yet" in line_plot([Series("loss", [])], x_label="s", y_label="l")
    svg = line_plot([Series("a", [(1, 0.5)])], x_label="s", y_label="l", refs=[Ref(1.0, "r")])
    assert "<circle" in svg  # a single point is drawn as a dot
