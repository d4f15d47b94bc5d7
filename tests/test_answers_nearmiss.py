r"""A number inside a larger expression is never taken alone: an expression with a free variable
("y + 30", "30n", "2x + 5"), a function of the number ("12sqrt(13)", "2 \pi", "5!"), a power, a
subscript or base ("x_3", "1010_2"), a time or a ratio ("2:30", "3:1") never equals the number
it contains, in strict or flexible mode, for GSM8K and MATH, whatever marker wraps it.

The forms are built on the gold's own digits, so a grader that cuts the expression down to its
first or last number would pass them; the gold itself in every wrapper must pass (so the test
can fail both ways).
"""

from __future__ import annotations

import pytest

from metamath.answers import extract, grade, grade_both


def _containing(g: str) -> list[str]:
    return [
        f"y + {g}",
        f"x = y + {g}",
        f"y - {g}",
        f"{g} + y",
        f"{g}n",
        f"{g} n",
        f"{g}x + 5",
        f"2x + {g}",
        f"{g} * x",
        f"x * {g}",
        f"x/{g}",
        f"{g} x",
        f"1/2 x + {g}",
        f"{g}\\pi",
        f"{g} \\pi",
        f"{g} pi",
        f"{g}π",
        f"{g}sqrt(13)",
        f"{g} sqrt(13)",
        f"{g}√13",
        f"{g}\\sqrt{{13}}",
        f"\\sqrt{{{g}}}",
        f"√{g}",
        f"sqrt({g})",
        f"{g}!",
        f"{g}^{{3}}",
        f"{g}^3",
        f"{g}²",
        f"x_{g}",
        f"x_{{{g}}}",
        f"{g}_2",
        f"{g}:30",
        f"3:{g}",
        f"{g}e5",
        f"1e{g}",
        f"{g} x 5",
        f"{g}x5",
        f"\\log {g}",
        f"{g}i",
    ]


_WRAPPERS = [
    "The answer is {}",
    "The answer is: {}.",
    "#### {}",
    "Answer: {}",
    "**Answer:** {}",
    "**Final Answer:** ${}$",
    "Final Answer: The final answer is ${}$. I hope it is correct.",
    "<answer> {} </answer>",
    '{{"reasoning": "see above", "answer": "{}"}}',
    "So the result is $\\boxed{{{}}}$.",
    "Adding up the parts, we get {}",
    "Adding up the parts, we get ${}$.",
    "Answer:\n{}",
    "La respuesta es {}.",
    "Ответ: {}",
]


@pytest.mark.parametrize("gold", ["12", "30", "7"])
@pytest.mark.parametrize("task", ["gsm8k", "math"])
def test_a_number_inside_an_expression_is_never_taken_alone(gold, task):
    passed = []
    for form in _containing(gold):
        for wrapper in _WRAPPERS:
            text = wrapper.format(form)
            for g in grade_both(text, gold, task, timeout=30):
                if g.correct:
                    passed.append((text, g.mode, g.extracted))
    assert not passed, passed[:8]
    for wrapper in _WRAPPERS:
        for mode in ("strict", "flexible"):
            if mode == "strict" and wrapper.startswith("Adding") or "boxed" in wrapper:
                continue  # no marker: only flexible reads it
            got = grade(wrapper.format(gold), gold, task, mode, timeout=30)
            assert got.correct, (wrapper, mode, got)


# What a reader takes from plain-text math and units after a number in a marked answer.
UNITS_OK = [
    ("<answer> 12sqrt(13) feet </answer>", r"12\sqrt{13}\text{ feet}", "math"),
    ("<answer> 12 sqrt(13) feet </answer>", r"12\sqrt{13}", "math"),
    ("<answer> 12√13 ft </answer>", r"12\sqrt{13}", "math"),
    ("<answer>24 m</answer>", "24", "math"),
    ("<answer>24 m</answer>", "24", "gsm8k"),
    ("The answer is 24 m.", "24", "math"),
    ("Answer: 5 s", "5", "gsm8k"),
    ("Answer: 3 kg", "3", "gsm8k"),
    ("Answer: 30 a day", "30", "gsm8k"),
    ("The answer is 10 x 5 = 50", "50", "gsm8k"),
    ("The answer is 2π", r"2\pi", "math"),
    ("The answer is 2 pi", r"2\pi", "math"),
    ("The answer is 5!", "120", "gsm8k"),
    ("The answer is 5!", "120", "math"),
    ("The answer is 10²", "100", "gsm8k"),
    ("She leaves at 2:30 pm.\nAnswer: 2:30", "2:30", "gsm8k"),
]
UNITS_MISS = [
    ("<answer> 12sqrt(13) feet </answer>", "12", "math"),
    ("<answer> 12sqrt(13) feet </answer>", "13", "math"),
    ("<answer> 12sqrt(13) feet </answer>", "12", "gsm8k"),
    ("<answer>24 n</answer>", "24", "math"),
    ("<answer>24 n</answer>", "24", "gsm8k"),
    ("<answer>0.6 x</answer>", "0.6", "gsm8k"),
    ("<answer>3 s</answer>", "3s^2", "math"),
    ("The answer is 2π", "2", "math"),
    ("The answer is 2 pi", "2", "gsm8k"),
    ("The answer is 5!", "5", "gsm8k"),
    ("She leaves at 2:30 pm.\nAnswer: 2:30", "2", "gsm8k"),
    ("She leaves at 2:30 pm.\nAnswer: 2:30", "30", "gsm8k"),
]


@pytest.mark.parametrize("text, gold, task", UNITS_OK, ids=[r[0][:40] for r in UNITS_OK])
def test_units_and_plain_text_math_pass(text, gold, task):
    for g in grade_both(text, gold, task, timeout=30):
        assert g.correct, g


@pytest.mark.parametrize("text, gold, task", UNITS_MISS, ids=[r[0][:40] for r in UNITS_MISS])
def test_units_and_plain_text_math_near_misses_fail(text, gold, task):
    for g in grade_both(text, gold, task, timeout=30):
        assert not g.correct, g


def test_the_extraction_keeps_the_whole_expression():
    assert extract("The answer is x = y + 30", "strict", "gsm8k") == "y + 30"
    assert extract("The answer is 12sqrt(13)", "strict", "gsm8k") == "12sqrt(13)"
    assert extract("So we get 1010_2.", "flexible", "gsm8k") == "1010_2"


def _hedges(g: str, other: str) -> list[str]:
    return [
        f"{g} or {other}",
        f"{other} or {g}",
        f"{g} to {other}",
        f"{g} and {other}",
        f"{g}, or maybe {other}",
        f"{g} (or {other} if Sunday counts)",
        f"{g} apples or {other} pears",
        f"{g} dollars or {other}",
    ]


@pytest.mark.parametrize("gold, other", [("12", "30"), ("7", "8"), ("30", "12")])
@pytest.mark.parametrize("task", ["gsm8k", "math"])
def test_a_hedge_between_values_is_no_answer(gold, other, task):
    """An answer that offers another value in its place states no one answer: neither value
    passes, and no fallback guesses one past it. The same value said twice is no hedge."""
    passed = []
    for form in _hedges(gold, other):
        # with no marker ("Adding up the parts, we get 12 or 30") only the flexible fallback
        # reads the text, and it guesses the last value by design: marked answers only here
        for wrapper in [w for w in _WRAPPERS if not w.startswith("Adding")]:
            text = wrapper.format(form)
            for g in grade_both(text, gold, task, timeout=30):
                if g.correct:
                    passed.append((text, g.mode, g.extracted))
    assert not passed, passed[:8]
    # the same value said twice is no hedge (numeric answers: MATH keeps "12 or 12.0" whole)
    for same in (f"{gold} or {gold}.0", f"{gold}, that is {gold}") if task == "gsm8k" else ():
        got = grade(f"The answer is {same}.", gold, task, "strict", timeout=30)
        assert got.correct, (same, got)
