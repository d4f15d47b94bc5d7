r"""The grader on what real models write: one table per failure class of issue 12, each with
forms that must grade correct and near misses that must not, in strict and flexible mode.

Rows are (completion, gold, task, modes): `modes` lists the modes in which the completion must
grade correct ("both", "flexible"); a near miss must grade wrong in both modes. The strings are
written here in the styles real models use (MetaMath's "The answer is:", Minerva's "Final
Answer: The final answer is $X$. I hope it is correct.", markdown "**Answer:**" and "### Final
Answer" blocks, \boxed{} in display math, other languages' "Answer:").
"""

from __future__ import annotations

import pytest

from metamath.answers import check, extract, grade, grade_both

BOTH, FLEX = ("strict", "flexible"), ("flexible",)

# 1. answer markers real models write; MATH answers end with their sentence
MARKERS_OK = [
    ("She sells 9 * 2 = 18 dollars.\nAnswer: 18", "18", "gsm8k", BOTH),
    ("9 eggs at $2 each.\n\n**Answer:** 18", "18", "gsm8k", BOTH),
    ("9 eggs at $2 each.\n\n**Answer: 18**", "18", "gsm8k", BOTH),
    ("Total: 9 * 2.\n\n**Final Answer:** $18$", "18", "gsm8k", BOTH),
    ("Final answer: 18 dollars", "18", "gsm8k", BOTH),
    ("ANSWER: 18", "18", "gsm8k", BOTH),
    (r"So we get $\text{Answer: } 18$", "18", "gsm8k", BOTH),
    ("Итого 9 * 2 = 18.\nОтвет: 18 рублей", "18", "gsm8k", BOTH),
    ("Respuesta: 18", "18", "gsm8k", BOTH),
    ("Réponse : 18 euros", "18", "gsm8k", BOTH),
    ("Antwort: 18", "18", "gsm8k", BOTH),
    ("答案：18", "18", "gsm8k", BOTH),
    ("Jibu: 18", "18", "gsm8k", BOTH),
    ("Por lo tanto, la respuesta es 18.", "18", "gsm8k", BOTH),
    ("Also lautet die Antwort 18.", "18", "gsm8k", BOTH),
    ("the answer is 18", "18", "gsm8k", BOTH),  # strict is case-insensitive (README)
    ("THE ANSWER IS 18", "18", "gsm8k", BOTH),
    (
        "Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.",
        r"\frac34",
        "math",
        BOTH,
    ),
    ("Final Answer: The final answer is $18$. I hope it is correct.", "18", "gsm8k", BOTH),
    ("So the answer is 12. We are done.", "12", "math", BOTH),
    ("Therefore the answer is $x=3$, as required.", "3", "math", BOTH),
    ("The answer is 12 because 5 + 7 = 12.", "12", "math", BOTH),
    ("The final answer is (1, 2). Checking: both satisfy it.", "(1,2)", "math", BOTH),
    ("The value of the unknown variable x is 5.", "5", "gsm8k_backward", BOTH),
    ('{"reasoning": "9 * 2 = 18", "answer": "18"}', "18", "gsm8k", BOTH),
    ("<think> 9 * 2 </think> <answer> $\\frac{1}{8}$ </answer>", r"\frac18", "math", BOTH),
    ("<answer> Hence, the degree of $f$ is 3. </answer>", "3", "math", BOTH),
    ("Answer:\nStep 2: They have 42 books together.", "42", "gsm8k", BOTH),
    ("So $\\boxed{44}$.\nCheck: 17 * 44 = 748, so our answer is correct.", "44", "math", FLEX),
]
MARKERS_MISS = [
    ("She sells 9 * 2 = 18 dollars.\nAnswer: 17", "18", "gsm8k"),
    ("**Answer:** 180", "18", "gsm8k"),
    ("Ответ: 1.8", "18", "gsm8k"),
    ("Final Answer: The final answer is $\\frac{4}{3}$. I hope it is correct.", r"\frac34", "math"),
    ("So the answer is 12. We are done after 13 steps.", "13", "math"),
    ("The answer is 11 because 5 + 7 = 12.", "12", "math"),
    ("Respuesta: 18.5", "18", "gsm8k"),
    ("The answer is not 5. The answer is 6", "5", "gsm8k"),
    ('{"reasoning": "it is 18", "answer": "17"}', "18", "gsm8k"),
    ("<answer> Hence, the degree of $f$ is 4. </answer>", "3", "math"),
]

# 2. a marker followed by display math on the next lines
DISPLAY_OK = [
    ("Thus, the answer is:\n\\[\n\\boxed{6}\n\\]", "6", "math", BOTH),
    ("Thus, the answer is:\n\\[\n\\boxed{6}\n\\]", "6", "gsm8k", BOTH),
    ("The final answer is:\n$$\n\\frac{1}{2}\n$$\nDone.", r"\frac12", "math", BOTH),
    ("### Final Answer\n\\[\n\\boxed{(1, 2)}\n\\]", "(1,2)", "math", BOTH),
    ("**Final Answer**\n\n\\[ \\boxed{72} \\]", "72", "gsm8k", BOTH),
    ("## Final Answer\n$$x = 4$$", "4", "math", BOTH),
]
DISPLAY_MISS = [
    ("Thus, the answer is:\n\\[\n\\boxed{7}\n\\]", "6", "math"),
    ("Thus, the answer is:\n\\[\n6^2\n\\]", "6", "gsm8k"),
    ("### Final Answer\n\\[\n\\boxed{(2, 1)}\n\\]", "(1,2)", "math"),
]

# 3. a markdown heading is not GSM8K's "####"
HEADING_OK = [
    (
        "#### Step 1: Eggs left\n16 - 3 - 4 = 9\n#### Step 2: Money\n9 * 2 = 18\nThe answer is 18",
        "18",
        "gsm8k",
        BOTH,
    ),
    ("#### 1. Setup\nWe need 9 * 2.\n#### 18", "18", "gsm8k", BOTH),
    ("#### Step 2: Money\n9 * 2 = 18", "18", "gsm8k", FLEX),
]
HEADING_MISS = [
    ("#### Step 2: Compute the total\nThe total is 20 dollars.", "2", "gsm8k"),
    ("#### 1. Setup\nThe answer is 7", "1", "gsm8k"),
    ("### Step 3: Simplify\nWe get $x = 9$.", "3", "math"),
]

# 4. without a marker or a box, the last math expression (not the last number)
FALLBACK_OK = [
    ("So the probability is $\\frac{1}{3}$.", r"\frac13", "math", FLEX),
    ("Hence $x \\geq 5$.", r"[5,\infty)", "math", FLEX),
    ("The town has 1 000 people.", "1000", "gsm8k", FLEX),
    ("Thus x = \\frac{1}{2}", r"\frac12", "math", FLEX),
    ("The diagonal is \\(2\\sqrt{2}\\).", r"2\sqrt2", "math", FLEX),
    ("We find 12 eggs, then 3 more, 15 in all.", "15", "gsm8k", FLEX),
    ("In total she pays 10 * 5 = 50 dollars.", "50", "gsm8k", FLEX),
]
FALLBACK_MISS = [
    ("So the probability is $\\frac{1}{3}$.", "3", "math"),
    ("So the probability is $\\frac{1}{3}$.", "3", "gsm8k"),
    ("Hence $x \\geq 5$.", "5", "math"),
    ("The town has 1 000 people.", "0", "gsm8k"),
    ("The code is AZYUK2A.", "2", "gsm8k"),
    ("Total: 10 * 5", "5", "gsm8k"),
]

# 5. numeric answers are read whole: a chain gives its result, arithmetic is evaluated exactly
CHAIN_OK = [
    ("The answer is 2 * 1.5 = 3.", "3", "gsm8k", BOTH),
    ("The answer is 2 * 1.5 = 3.", "3", "math", BOTH),
    ("The answer is: 1.5 \\times 10^{3}", "1500", "gsm8k", BOTH),
    ("The answer is 10 - 3", "7", "gsm8k", BOTH),
    ("The answer is \\frac{3}{4} + \\frac{1}{4} = 1", "1", "gsm8k", BOTH),
    ("#### 2,500", "2500", "gsm8k", BOTH),
    ("The answer is: $1,234.50", "1234.5", "gsm8k", BOTH),
]
CHAIN_MISS = [
    ("The answer is 2 * 1.5 = 3.", "2", "gsm8k"),
    ("The answer is 2 * 1.5 = 3.", "2", "math"),
    ("The answer is: 1.5 \\times 10^{3}", "1.5", "gsm8k"),
]

# 6. equivalence: relations, inequalities as intervals, sets vs lists, units in a $-wrapped gold
EQUIV_OK = [
    (r"x \geq 5", r"5 \leq x"),
    ("x >= 5", r"x \geq 5"),
    ("x ≥ 5", r"x\ge5"),
    (r"x \neq 3", "x != 3"),
    ("-2,-1,1,2", r"\{-2,-1,1,2\}"),
    (r"\{2, 1\}", "1,2"),
    (r"5\text{ cm}", r"$5\text{ cm}$"),
    ("5", r"$5\text{ cm}$"),
    ("x > 5", r"(5,\infty)"),
    (r"[5, \infty)", r"x \ge 5"),
    (r"-2 < x \le 3", "(-2, 3]"),
    (r"3 > x", r"(-\infty, 3)"),
    (r"x < 2 \text{ or } x > 3", r"(-\infty,2)\cup(3,\infty)"),
    (r"x \neq 3", r"(-\infty,3)\cup(3,\infty)"),
]
EQUIV_MISS = [
    ("x > 5", r"x \geq 5"),
    (r"x \geq 6", r"x \geq 5"),
    (r"5 \geq x", r"x \geq 5"),
    ("-2,-1,1", r"\{-2,-1,1,2\}"),
    (r"6\text{ cm}", r"$5\text{ cm}$"),
    ("x < 5", r"(5,\infty)"),
    (r"-2 \le x \le 3", "(-2,3]"),
    ("x = 3", r"x \neq 3"),
]

# 7. a gold given as a whole solution is graded against its own final answer
GSM_SOLUTION = (
    "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n"
    "She makes 9 * 2 = $<<9*2=18>>18 every day at the farmer's market.\n#### 18"
)
MATH_SOLUTION = (
    "There are 6 outcomes and 3 of them are even, so the probability is "
    "$\\frac{3}{6} = \\boxed{\\frac{1}{2}}$."
)
SOLUTION_OK = [
    ("The answer is 18", GSM_SOLUTION, "gsm8k", BOTH),
    ("So $\\boxed{0.5}$", MATH_SOLUTION, "math", FLEX),
    ("The answer is: \\frac12", MATH_SOLUTION, "math", BOTH),
]
SOLUTION_MISS = [
    ("The answer is 9", GSM_SOLUTION, "gsm8k"),
    ("So $\\boxed{6}$", MATH_SOLUTION, "math"),
    ("The answer is 3", MATH_SOLUTION, "math"),
]

# 8. decimal commas vs thousands separators (numeric.py's documented rule)
COMMA_OK = [
    ("The answer is 2,74", "2.74", "gsm8k", BOTH),
    ("Ответ: 1000,99", "1000.99", "gsm8k", BOTH),
    ("The answer is 1,234", "1234", "gsm8k", BOTH),
    ("The answer is 1.234,56", "1234.56", "gsm8k", BOTH),
    ("Answer: 12 345", "12345", "gsm8k", BOTH),
    ("The answer is 2,74", "2.74", "math", BOTH),
    ("The answer is 2, 1", "1,2", "math", BOTH),
    ("The answer is 2,74", "2,74", "gsm8k", BOTH),
]
COMMA_MISS = [
    ("The answer is 2,74", "274", "gsm8k"),
    ("The answer is 1,234", "1.234", "gsm8k"),
    ("The answer is 1000,99", "100099", "gsm8k"),
    ("The answer is 1,2", "12", "math"),
]

# 9. a last marker with nothing after it hides no earlier answer
EMPTY_OK = [
    ("So the answer is 48.\n\nThe final answer is within \\boxed{}.", "48", "gsm8k", BOTH),
    ("So the answer is 48.\n\nThe final answer is within \\boxed{}.", "48", "math", BOTH),
    ("6 + 4 = 10 cookies. The answer is 10\n####", "10", "gsm8k", BOTH),
    ("The answer is 10.\nAnswer:", "10", "gsm8k", BOTH),
    ("The answer is: \\frac{1}{2}\n\n**Final Answer**", r"\frac12", "math", BOTH),
]
EMPTY_MISS = [
    ("So the answer is 47.\n\nThe final answer is within \\boxed{}.", "48", "gsm8k"),
    ("The answer is: 7\n####", "48", "gsm8k"),
    ("The answer is: 7\n####", "48", "math"),
]

OK = (
    MARKERS_OK
    + DISPLAY_OK
    + HEADING_OK
    + FALLBACK_OK
    + CHAIN_OK
    + SOLUTION_OK
    + COMMA_OK
    + EMPTY_OK
)
MISS = (
    MARKERS_MISS
    + DISPLAY_MISS
    + HEADING_MISS
    + FALLBACK_MISS
    + CHAIN_MISS
    + SOLUTION_MISS
    + COMMA_MISS
    + EMPTY_MISS
)


@pytest.mark.parametrize("completion, gold, task, modes", OK, ids=[r[0][:40] for r in OK])
def test_equivalent_forms_pass(completion, gold, task, modes):
    for mode in modes:
        g = grade(completion, gold, task, mode, timeout=30)
        assert g.correct, f"{mode}: {g}"
    if modes == FLEX:  # no marker: strict has nothing to read
        assert extract(completion, "strict", task) is None


@pytest.mark.parametrize("completion, gold, task", MISS, ids=[r[0][:40] for r in MISS])
def test_near_misses_fail(completion, gold, task):
    for mode in BOTH:
        g = grade(completion, gold, task, mode, timeout=30)
        assert not g.correct, f"{mode}: {g}"


@pytest.mark.parametrize("pred, gold", EQUIV_OK)
def test_equivalence_gaps_closed(pred, gold):
    assert check(pred, gold, timeout=30) == "correct"
    assert check(gold, pred, timeout=30) == "correct"


@pytest.mark.parametrize("pred, gold", EQUIV_MISS)
def test_equivalence_near_misses(pred, gold):
    assert check(pred, gold, timeout=30) != "correct"


def test_grade_both_reads_display_math_after_a_marker():
    strict, flexible = grade_both("the answer is:\n\\[\n\\boxed{6}\n\\]", "6", "math")
    assert strict.extracted == flexible.extracted == "6" and strict.correct


def test_a_solution_without_a_final_answer_is_an_error():
    g = grade("The answer is 5", "We add the numbers and get the sum. " * 10, "math")
    assert (g.correct, g.reason) == (False, "error")


# Near misses built on the gold's digits never pass, in either mode, for GSM8K and MATH: every
# form below differs from the gold in value, yet starts with (or contains) the gold's digits.
def _built_on(g: str) -> list[str]:
    return [
        f"{g}^{{{g}}}",
        f"{g}^{{{g}^{{{g}^{{{g}}}}}}}",
        f"{g}^3",
        f"{g}^{{2}}",
        f"{g} * 5",
        f"{g}*5",
        f"{g} \\times 5",
        f"{g} \\cdot 5",
        f"{g}×5",
        f"{g} - 3",
        f"{g}-3",
        f"{g} + 1",
        f"{g}/3",
        f"\\frac{{{g}}}{{3}}",
        f"{g}e5",
        f"{g}E2",
        f"{g}e-1",
        f"u+{g}",
        f"{g}+u",
        f"{g}u",
        f"{g}x",
        f"x^{{{g}}}",
        f"2^{{{g}}}",
        f"-{g}",
        f"{g}.5",
        f"{g},5",
        f"{g} 000",
        f"{g}\\sqrt{{2}}",
        f"{g}\\pi",
    ]


_WRAPPERS = [
    "The answer is: {}",
    "The answer is {}.",
    "#### {}",
    "Answer: {}",
    "**Final Answer:** ${}$",
    "So the result is $\\boxed{{{}}}$.",
    "Final Answer: The final answer is ${}$. I hope it is correct.",
    "Adding up the parts, the total is {}",  # no marker: the flexible fallback
    "Adding up the parts, we get ${}$.",
    "the answer is:\n\\[\n\\boxed{{{}}}\n\\]",
]


@pytest.mark.parametrize("gold", ["10", "14", "36"])
@pytest.mark.parametrize("task", ["gsm8k", "math"])
def test_near_misses_on_the_golds_digits_never_pass(gold, task):
    passed = []
    for form in _built_on(gold):
        for wrapper in _WRAPPERS:
            text = wrapper.format(form)
            for g in grade_both(text, gold, task, timeout=30):
                if g.correct:
                    passed.append((text, g))
    assert not passed, passed[:5]
    # and the gold itself, in every wrapper, passes (the test can fail in both directions)
    for wrapper in _WRAPPERS:
        assert grade(wrapper.format(gold), gold, task, "flexible", timeout=30).correct, wrapper
