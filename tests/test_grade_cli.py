"""`metamath grade`: rows in, graded rows out, the summary as the last printed line; bad lines
become recorded reasons; the parallel path gives the same rows in the same order."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from metamath.cli import main


def _write(path, rows, extra: bytes = b""):
    with open(path, "wb") as f:
        for r in rows:
            f.write((json.dumps(r) + "\n").encode())
        f.write(extra)
    return path


def _run(capsys, *argv) -> tuple[int, dict, str]:
    rc = main(["grade", *map(str, argv), "--no-progress"])
    out = capsys.readouterr().out.strip().splitlines()
    return rc, json.loads(out[-1]), "\n".join(out)


ROWS = [
    {"id": 1, "completion": "3 + 4 = 7.\nThe answer is: 7", "gold": "7"},
    {"id": 2, "completion": "The total is $\\boxed{1,234}$.", "gold": 1234},
    {"id": 3, "completion": "The answer is: 17.6", "gold": "18"},
    {"id": 4, "completion": "I am not sure.", "gold": "5"},
    {"id": 5, "completion": "The answer is: 12", "solution": "6 * 2 = 12\n#### 12"},
]


def test_grade_gsm8k(tmp_path, capsys):
    src = _write(tmp_path / "in.jsonl", ROWS)
    out = tmp_path / "out.jsonl"
    rc, summary, _ = _run(capsys, src, "--task", "gsm8k", "--output", out)
    assert rc == 0
    assert summary["n"] == 5 and summary["correct"] == 3
    assert summary["accuracy"] == pytest.approx(0.6)
    assert summary["accuracy_strict"] == pytest.approx(0.4)  # the boxed one needs flexible
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["reason"] for r in rows] == ["correct", "correct", "mismatch", "no_answer", "correct"]
    assert rows[1]["extracted"] == "1234" and rows[1]["mode"] == "flexible"
    assert rows[4]["gold"] == "12"  # taken from the solution


def test_bad_lines_are_recorded_reasons(tmp_path, capsys):
    bad = (
        b'{"completion": "The answer is: 5\xff\xfe", "gold": "5"}\n'
        b"not json at all\n"
        b'["a", "list"]\n'
        b'{"completion": "The answer is: 5"}\n'
        b'{"text": "The answer is: 5", "gold": "5"}\n'
    )
    src = _write(tmp_path / "in.jsonl", ROWS[:1], bad)
    out = tmp_path / "out.jsonl"
    rc, summary, _ = _run(capsys, src, "--task", "gsm8k", "-o", out)
    assert rc == 0 and summary["n"] == 6 and summary["errors"] == 5
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    errors = [r["error"] for r in rows[1:]]
    assert errors[0].startswith("line 2: not valid UTF-8")
    assert errors[1].startswith("line 3: not valid JSON")
    assert errors[2].startswith("line 4: expected a JSON object")
    assert errors[3].startswith("line 5: no gold answer")
    assert errors[4].startswith("line 6: field 'completion' is missing")


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    rc = main(["grade", str(tmp_path / "nope.jsonl"), "--task", "math"])
    assert rc == 2
    assert "nope.jsonl: no such file" in capsys.readouterr().err


def test_parallel_matches_serial(tmp_path, capsys):
    rows = []
    for i in range(600):  # a few chunks; log_2(8) needs the math-verify worker in each process
        gold = ["\\frac{1}{2}", "2\\sqrt{2}", "(1,2)", "\\log_2 8", "\\sin^2 x"][i % 5]
        pred = ["0.5", "\\sqrt{8}", "(2,1)", "3", "1-\\cos^2 x"][i % 5]
        rows.append({"id": i, "completion": f"So $\\boxed{{{pred}}}$.", "gold": gold})
    src = _write(tmp_path / "in.jsonl", rows)
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.jsonl"
        rc, summary, _ = _run(
            capsys, src, "--task", "math", "-o", out, "--workers", workers, "--timeout", 30
        )
        assert rc == 0 and summary["n"] == 600 and summary["workers"] == workers
        outs.append(out.read_text())
    assert outs[0] == outs[1]
    assert summary["correct"] == 480  # all but the reordered tuple


def test_real_gsm8k_solutions_as_completions(data_dir, tmp_path):
    # Real reference solutions graded against their own gold (taken from `solution`): every
    # row correct, through the installed console entry point.
    rows = [json.loads(x) for x in (data_dir / "gsm8k" / "test.jsonl").read_text().splitlines()]
    src = _write(
        tmp_path / "in.jsonl", [{"completion": r["answer"], "solution": r["answer"]} for r in rows]
    )
    proc = subprocess.run(
        [sys.executable, "-m", "metamath", "grade", str(src), "--task", "gsm8k", "--no-progress"],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["n"] == 1319 and summary["accuracy"] == 1.0


def test_task_auto_uses_each_rows_task_field(tmp_path, capsys):
    rows = [
        {"task": "gsm8k", "completion": "The answer is: 1,000", "gold": "1000"},
        {"task": "math", "completion": "So $\\boxed{\\frac{1}{2}}$.", "gold": "\\dfrac12"},
        {"task": "gsm8k_backward", "completion": "The value of x is 4.", "gold": "4"},
        {"task": "svamp", "completion": "The answer is: 3", "gold": "3"},
        {"completion": "The answer is: 3", "gold": "3"},
    ]
    src = _write(tmp_path / "samples.jsonl", rows)
    out = tmp_path / "graded.jsonl"
    rc, summary, _ = _run(capsys, src, "--output", out)
    assert rc == 0
    graded = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["correct"] for g in graded] == [True, True, True, False, False]
    assert [g["reason"] for g in graded[3:]] == ["error", "error"]
    assert "line 4: field 'task' is 'svamp'" in graded[3]["error"]
    assert "--task" in graded[4]["error"]
    assert summary["n"] == 5 and summary["correct"] == 3


def test_audit_lists_where_math_verify_disagrees(tmp_path, capsys):
    rows = [
        {
            "id": "a",
            "task": "math",
            "completion": "So the answer is 12. We are done.",
            "gold": "12",
        },
        # math-verify reads the first number of a power: a near miss it accepts and we do not
        {"id": "b", "task": "gsm8k", "completion": "The answer is: 10^{10}", "gold": "10"},
        {"id": "c", "task": "gsm8k", "completion": "Answer: 18", "gold": "18"},
        {"id": "d", "task": "math", "completion": "I am not sure.", "gold": "3"},
    ]
    src = _write(tmp_path / "in.jsonl", rows)
    out = tmp_path / "graded.jsonl"
    rc, summary, text = _run(capsys, src, "-o", out, "--audit")
    assert rc == 0
    audit_path = tmp_path / "graded.audit.jsonl"
    assert summary["audit"]["path"] == str(audit_path)
    assert summary["audit"]["rows"] == 4 and summary["audit"]["disagree"] == 1
    assert summary["audit"]["math_verify_only_correct"] == 1
    listed = [json.loads(x) for x in audit_path.read_text().splitlines()]
    assert [r["id"] for r in listed] == ["b"]
    b = listed[0]
    assert b["ours_correct"] is False and b["math_verify_correct"] is True
    assert b["ours_extracted"] == "10000000000" and b["math_verify_extracted"] == "10"
    assert b["completion"] == rows[1]["completion"] and b["line"] == 2
    graded = [json.loads(x) for x in out.read_text().splitlines()]
    assert [g["math_verify"]["correct"] for g in graded] == [True, True, True, False]
    assert "disagree on 1 of 4 rows" in text
