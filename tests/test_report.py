"""The eval run's report.md / report.html: content, escaping of untrusted model text,
self-containment (the render in a real browser: tests/test_report_browser.py)."""

from __future__ import annotations

import re

import pytest

from metamath.evaluate import run_eval
from metamath.evaluate.report import bar_chart_svg
from test_eval import ScriptedLLM, cfg_for, script

EVIL = "<script>alert('x')</script><img src=http://evil.example/a.png> The answer is: 99"


def hostile(req, k):
    return EVIL if "What is 6 + 6" in (req.prompt or "") else script(req, k)


@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "run"
    run_eval(cfg_for(tmp_path), run, llm=ScriptedLLM(hostile), progress=False)
    return run


def test_html_is_self_contained_and_escapes_model_text(run_dir):
    page = (run_dir / "report.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "evil.example" in page and not re.search(r"<img", page)
    # no external resource: no src, links only to anchors of this page, and the only URL in a
    # tag is the SVG xmlns
    tags = re.findall(r"<[^>]+>", page)
    assert not [t for t in tags if re.search(r"\ssrc=", t)]
    assert {h[0] for h in re.findall(r'\shref="([^"]*)"', page)} == {"#"}
    assert {u for t in tags for u in re.findall(r"https?://[^\s\"']+", t)} == {
        "http://www.w3.org/2000/svg"
    }
    assert page.count("<svg") == 2  # subject and level charts
    assert "accuracy by subject" in page and "request error: HTTP 500" in page


def test_report_opens_with_key_numbers_and_says_what_each_means(run_dir):
    md = (run_dir / "report.md").read_text()
    head = md.split("## Scores")[0]
    assert "**mine accuracy (strict): 41.7%** (95% CI 19.3–68.0 · flexible 58.3% · n=12)" in head
    # both graders' no-answer rates, labelled; a note for each number that needs one
    assert "| no answer % (strict) | no answer % (flexible) |" in md
    assert "| mine | 12 | 41.7 | 58.3 | 19.3–68.0 | 33.3 | 16.7 | 8.3 | 8.3 |" in md
    for term in ("**strict**", "**flexible**", "**95% CI**", "**no answer**", "**random weights**"):
        assert term in md, term
    assert "| no_answer | 4 | 2 |" in md  # reasons under both graders
    # setup in words: token usage is counted, not a Python dict
    assert (
        "| tokens | 33 prompt + 22 completion; 0 samples from the cache; 1 failed request |" in md
    )
    assert "{'" not in md and "None" not in md


def test_markdown_report_tables_and_failures(run_dir):
    md = (run_dir / "report.md").read_text()
    assert "| mine | 1+file." in md and "| add | 6 | 50.0 | 66.7 | 18.8–81.2 |" in md
    assert "| L0 | 4 | 50.0 | 50.0 | 15.0–85.0 |" in md  # Wilson(2, 4)
    assert "**Failures: wrong answer**" in md and "**mine/q6**: gold `12`, extracted `99`" in md
    assert "**Failures: cut off at max tokens**" in md and "**Failures: no answer found**" in md
    assert "**mine/q4**: gold `8`, no answer extracted (no_answer)" in md
    assert "**mine/q10**: gold `20`, request failed (error)" in md
    assert "### Instruction" not in md  # prompts are in the HTML only (folded)


def test_bar_chart_svg_bars_scale_with_accuracy():
    svg = bar_chart_svg(
        "t",
        {
            "A": {"n": 3, "strict": 0.5, "flexible": 1.0},
            "B&C": {"n": 1, "strict": 0.0, "flexible": 0.25},
        },
    )
    widths = [
        float(w) for w in re.findall(r'<rect x="190" y="[\d.]+" width="([\d.]+)" height="12"', svg)
    ]
    assert widths == [180.0, 360.0, 0.0, 90.0]
    assert "B&amp;C (n=1)" in svg


def test_grader_audit_section(run_dir):
    # q4 and q5 answer only in a box: strict (this run's primary score) reads no answer there,
    # math-verify accepts the box; the report shows both extractions for each
    md = (run_dir / "report.md").read_text()
    assert "## Grader audit: ours vs math-verify" in md
    assert (
        "the graders disagree on 2 of 11 samples (only ours accepts 0, only math-verify accepts 2)"
        in md
    )
    assert "**mine/q4**: gold `8`; ours no answer (no_answer); math-verify `8` (correct)" in md
    page = (run_dir / "report.html").read_text()
    assert "Grader audit: ours vs math-verify" in page and "math-verify <code>10</code>" in page
