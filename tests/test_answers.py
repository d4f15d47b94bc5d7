"""metamath.answers: extraction conventions, grading reasons, strict vs flexible."""

from __future__ import annotations

import sys

import pytest

from metamath.answers import extract, grade, grade_both, is_equiv


@pytest.mark.parametrize(
    "text, task, mode, want",
    [
        ("so 3+4=7. The answer is: 7", "gsm8k", "strict", "7"),
        ("The answer is 5 apples over 2 days", "gsm8k", "strict", "5"),
        ("The answer is: 1,234,567.", "gsm8k", "strict", "1234567"),
        ("The answer is: $1,234.50", "gsm8k", "strict", "1234.50"),
        ("The answer is: -12", "gsm8k", "strict", "-12"),
        ("He pays 18 dollars.\n#### 18", "gsm8k", "strict", "18"),
        ("The value of x is 75.\n#### 75\nThe answer is: 75", "gsm8k_backward", "strict", "75"),
        ("Solving, we get 2x = 10. The value of x is 5.", "gsm8k_backward", "strict", "5"),
        ("The value of $X$ is 3.", "math", "strict", "3"),
        ("The answer is: \\frac{1}{2}", "math", "strict", "\\frac{1}{2}"),
        ("The answer is: $\\boxed{(1, 2)}$.", "math", "strict", "(1, 2)"),
        ("So $\\boxed{\\frac{\\sqrt{3}}{2}}$.", "math", "strict", None),
        ("So $\\boxed{\\frac{\\sqrt{3}}{2}}$.", "math", "flexible", "\\frac{\\sqrt{3}}{2}"),
        ("We find 12 eggs, then 3 more, 15 in all.", "gsm8k", "flexible", "15"),
        ("We find 12 eggs, then 3 more, 15 in all.", "gsm8k", "strict", None),
        ("no digits here", "gsm8k", "flexible", None),
        ("The answer is:\n42", "gsm8k", "strict", "42"),
        ("The answer is $\\frac{1}{2}$ because of x.", "math", "strict", "\\frac{1}{2}"),
        ("The answer is: \\$5.50.", "math", "strict", "\\$5.50"),
        ("The answer is: $\\boxed{18}$", "gsm8k", "strict", "18"),
        ("The answer is: -\\frac{3}{4}", "gsm8k", "strict", "-\\frac{3}{4}"),
        ("First 12, then The answer is: 7\nQuestion: 3+5?", "gsm8k", "strict", "7"),
        ("Final Answer: The final answer is $5$. I hope it is correct.", "math", "strict", "5"),
        ("The answer is: 1,234.5", "gsm8k", "strict", "1234.5"),
        ("The answer is: 18.\n\nQuestion: next", "gsm8k", "strict", "18"),
        ("The answer is 3. Wait.\nThe answer is: 4", "gsm8k", "strict", "4"),
        ("so \\fbox{5} it is", "math", "flexible", "5"),
        ("$\\boxed{x = 5}$", "math", "flexible", "x = 5"),
        # a box after the last marker is the more final answer (a real MATH solution does this)
        (
            "If the answer is NOT a multiple of 3, ...\nSo $40 + 2 = \\boxed{42}$.",
            "math",
            "flexible",
            "42",
        ),
        # a marker followed by a sentence is not an answer (a real MATH solution ends this way)
        (
            "So $\\boxed{5}$. Note the final answer is positive, because two are negative.",
            "math",
            "flexible",
            "5",
        ),
        (
            "The answer is: \\begin{pmatrix} 1 \\\\\n 2 \\end{pmatrix}.\nMore text",
            "math",
            "strict",
            "\\begin{pmatrix} 1 \\\\\n 2 \\end{pmatrix}",
        ),
    ],
)
def test_extract(text, task, mode, want):
    assert extract(text, mode=mode, task=task) == want


def test_gsm8k_is_not_rounded():
    # eval_gsm8k.py rounds the prediction, so 17.6 passes for 18 (method reference 4.2)
    g = grade("The answer is: 17.6", "18", "gsm8k")
    assert (g.correct, g.reason, g.extracted) == (False, "mismatch", "17.6")
    assert grade("The answer is: 18.00", "18", "gsm8k").correct


def test_reasons_and_modes():
    s, f = grade_both("Thus the total is \\boxed{42}.", "42", "gsm8k")
    assert (s.correct, s.reason) == (False, "no_answer")
    assert (f.correct, f.reason, f.mode) == (True, "correct", "flexible")
    g = grade("The answer is: 41", "42", "gsm8k", mode="strict")
    assert (g.correct, g.reason, g.mode) == (False, "mismatch", "strict")
    assert grade("", "42", "gsm8k").reason == "no_answer"
    assert grade("The answer is 4", "", "gsm8k").reason == "error"


def test_bad_arguments_name_the_fix():
    with pytest.raises(ValueError, match="mode"):
        grade("x", "1", "gsm8k", mode="lenient")
    with pytest.raises(ValueError, match="task"):
        extract("x", task="aime")


@pytest.mark.parametrize(
    "pred, gold, want",
    [
        ("0.75", "\\frac{3}{4}", True),
        ("\\frac{4}{3}", "\\frac{3}{4}", False),
        ("1,234,567", "1234567", True),
        ("x = 5", "5", True),
        ("(1,2)", "(2,1)", False),
        ("\\{1,2\\}", "\\{2,1\\}", True),
        ("2\\sqrt{2}", "\\sqrt{8}", True),
        ("[1,2)", "[1,2]", False),
        ("x^2", "y^2", False),  # different variables: only math-verify can say
    ],
)
def test_is_equiv(pred, gold, want):
    assert is_equiv(pred, gold) is want


def test_no_heavy_imports():
    import subprocess

    code = "import metamath.answers, sys; print(any(m in sys.modules for m in ('torch', 'openai', 'sympy', 'httpx')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "completion, gold, task, want",
    [
        # the original GSM8K evaluator's failures (method reference 4.2) do not happen here
        ("The answer is: 1,234,567", "1234567", "gsm8k", True),  # read as 1234 there
        ("The answer is: 1,234.5", "1234.5", "gsm8k", True),  # read as 1234 there
        ("The answer is: 2.5", "2", "gsm8k", False),  # banker's rounding made this 2
        ("The answer is: 17.6", "18", "gsm8k", False),  # round() made this 18
        ("The answer is: \\$18.00", "18", "gsm8k", True),
        # MATH: forms strip_string misses (method reference 4.4)
        ("The answer is: 10,000", "10000", "math", True),
        ("The answer is: 0.25", "\\frac14", "math", True),
        ("The answer is: 2\\sqrt{2}", "\\sqrt{8}", "math", True),
        ("The answer is: \\text{(B)}", "B", "math", True),
        ("The answer is: 5\\mbox{ cm}", "5", "math", True),
        ("The answer is: y = 2x + 3", "2x+3", "math", True),
        ("The answer is: (3, 1)", "(1,3)", "math", False),
    ],
)
def test_classic_extraction_bugs(completion, gold, task, want):
    assert grade(completion, gold, task, mode="strict").correct is want
