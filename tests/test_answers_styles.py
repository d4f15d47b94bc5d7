r"""Whole replies in the styles real models write, each with forms that must grade correct and near
misses that must not, in strict and flexible mode: Minerva's "Final Answer: The final answer is
$X$. I hope it is correct.", lm-eval few-shot run-ons ("Question: ... Answer: ..." repeated),
"Answer: X" last lines, markdown bold answers, other languages' markers, JSON fields and XML
tags, invented next turns after an answer (runon.py), bare "Answer:" labels followed by a block
and answer sentences naming several numbers (reading.py).

Rows are (completion, gold, task): an OK row grades correct in both modes, a MISS row in none.
"""

from __future__ import annotations

import time

import pytest

from metamath.answers import extract, grade, grade_both

MINERVA = (
    "Problem:\nFind $x$ if $2x + 3 = 11$.\n\nSolution:\nSubtracting 3 gives $2x = 8$, so $x = 4$."
    "\nFinal Answer: The final answer is ${}$. I hope it is correct."
)
MINERVA_RUNON = MINERVA + (
    "\n\nProblem:\nWhat is $\\frac{{1}}{{2}} + \\frac{{1}}{{3}}$?\n\nSolution:\n"
    "$\\frac{{1}}{{2}} + \\frac{{1}}{{3}} = \\frac{{5}}{{6}}$.\nFinal Answer: The final answer is "
    "$\\frac{{5}}{{6}}$. I hope it is correct."
)
LM_EVAL = (
    "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 "
    "every day at the farmer's market.\n#### {}\n\nQuestion: A robe takes 2 bolts of blue fiber "
    "and half that much white fiber. How many bolts in total does it take?\nAnswer: It takes 2/2"
    "=<<2/2=1>>1 bolt of white fiber\nSo the total amount of fabric is 2+1=<<2+1=3>>3 bolts\n"
    "#### 3\n\nQuestion: Josh decides to try flipping a house."
)
QA_RUNON = (
    "A: 9 eggs at $2 each is $18. The answer is {}.\n\nQ: What is 5 + 7?\nA: The answer is 12."
)
PHI_JSON = (
    '```json\n{{\n    "reasoning": "225 * 24 / 9 = 600",\n    "answer": "{}"\n}}\n```\n\n\n'
    "## Question: \n\nThe value of $z$ varies inversely as the cube of $w$.\n\n\n"
    "## Instruction \n\nPlease show your final answer in the `answer` field, e.g.,"
    '`"answer": "42"`.\n\n```json\n{{\n    "reasoning": "___",\n    "answer": "___"\n}}\n```'
)
CHAT_RUNON = "So she makes $18 per day.\n\n**Answer:** {}\n<|im_end|>\n<|im_start|>user\nAnswer: 42"
HUMAN_RUNON = (
    "The answer is {}.\n\nHuman: Thanks! Now what is 6 * 7?\n\nAssistant: The answer is 42."
)
RESTATED = "Question: Janet's ducks lay 16 eggs.\nAnswer: 16 - 3 - 4 = 9 and 9 * 2 = 18.\n#### {}"
ANSWER_LAST_LINE = "Janet has 16 - 3 - 4 = 9 eggs left.\nShe earns 9 * 2 = 18 dollars.\nAnswer: {}"
BOLD = "She keeps 9 eggs and sells them for $2 each.\n\n**Final Answer: ${}$**"
BOLD_HEADING = "9 eggs at $2 each.\n\n### **Final Answer**\n\nJanet makes **${}** every day."
XML = "<reasoning>9 * 2 = 18</reasoning>\n<answer>{}</answer>"
XML_MATH = "<think>We solve for x.</think> <answer> $x = {}$ </answer>"
LANGUAGES = [
    "Итак, 9 * 2 = 18.\n**Ответ:** {} рублей",
    "Por lo tanto, 9 * 2 = 18.\n\n**Respuesta final:** {}",
    "Donc 9 * 2 = 18.\nRéponse : {} euros",
    "Also 9 * 2 = 18.\nDie Antwort lautet {}.",
    "所以 9 * 2 = 18。\n答案：{}",
    "Entonces la respuesta es {}.",
]

STYLES_GSM = [
    LM_EVAL,
    QA_RUNON,
    CHAT_RUNON,
    HUMAN_RUNON,
    RESTATED,
    ANSWER_LAST_LINE,
    BOLD,
    BOLD_HEADING,
    XML,
    MINERVA,
    *LANGUAGES,
]
STYLES_MATH = [MINERVA, MINERVA_RUNON, PHI_JSON, XML_MATH, BOLD, QA_RUNON, HUMAN_RUNON]

OK = [(s.format("18"), "18", "gsm8k") for s in STYLES_GSM]
OK += [(s.format("18.00"), "18", "gsm8k") for s in (ANSWER_LAST_LINE, XML, BOLD)]
OK += [(s.format("4"), "4", "math") for s in STYLES_MATH]
OK += [(MINERVA.format("\\frac{8}{2}"), "4", "math"), (XML_MATH.format("4.0"), "4", "math")]
MISS = [(s.format("17"), "18", "gsm8k") for s in STYLES_GSM]
MISS += [(s.format("18^2"), "18", "gsm8k") for s in (ANSWER_LAST_LINE, XML, MINERVA, BOLD)]
MISS += [(s.format("y + 18"), "18", "gsm8k") for s in (ANSWER_LAST_LINE, XML, MINERVA, BOLD)]
MISS += [(s.format("5"), "4", "math") for s in STYLES_MATH]
MISS += [(s.format("4x"), "4", "math") for s in STYLES_MATH]
# the invented turn's answer is never the reply's: 3 (lm-eval), 12 (Q/A), 42 (chat, JSON)
MISS += [
    (LM_EVAL.format("18"), "3", "gsm8k"),
    (QA_RUNON.format("18"), "12", "gsm8k"),
    (CHAT_RUNON.format("18"), "42", "gsm8k"),
    (HUMAN_RUNON.format("18"), "42", "gsm8k"),
    (PHI_JSON.format("600"), "42", "math"),
    (MINERVA_RUNON.format("4"), "\\frac56", "math"),
]

# A bare "Answer:" label followed by a block; answer sentences naming several numbers.
BLOCKS_OK = [
    ("Answer:\n- 18 apples", "18", "gsm8k"),
    ("Answer:\n1. 18 apples", "18", "gsm8k"),
    ("Answer:\n\n**18**", "18", "gsm8k"),
    ("Calculations:\ny = 40\n\nAnswer:\nx = y + 30\nx = 40 + 30\nx = 70", "70", "gsm8k"),
    ("Answer:\nx = y + 30\nx = 40 + 30\nx = 70\n\nGretchen has 70 gold coins.", "70", "gsm8k"),
    (
        "x = 2 * 80 = 160\n\nAnswer:\nToulouse has 160 sheep, Charleston has 80 sheep, and "
        "Seattle has 20 sheep.\n\nTotal number of sheep: 160 + 80 + 20 = 260 sheep.",
        "260",
        "gsm8k",
    ),
    (
        "96 potatoes x 6 = 576 hash browns\n\nAnswer:\n96 potatoes can make 576 hash browns.",
        "576",
        "gsm8k",
    ),
    (
        "Goal = $200\nTotal earnings = $83 + $91 = $174\n\nAnswer: They need $26 more to reach their goal of $200.",
        "26",
        "gsm8k",
    ),
    ("Answer:\n30 slices - 15 slices = 15 slices left.", "15", "gsm8k"),
    ("Answer: 18 (9 eggs at $2 each)", "18", "gsm8k"),
    ("Answer:\n18\n\nExplanation:\nShe sells 9 eggs at $2, 9 * 2 = 18.", "18", "gsm8k"),
    (
        "Answer:\n\nStep 1: 200 x 3 = 6 grams.\n\nStep 2: John gets 42 grams a week (6 x 7 = 42).",
        "42",
        "gsm8k",
    ),
    (
        "**Final Answer**\n\nJanet makes $18 per day.\n\nI hope this helps, let me know if you have 2 more!",
        "18",
        "gsm8k",
    ),
    ("### Answer\nShe makes 18 dollars.\n\n### Check\n1. She has 16 eggs.", "18", "gsm8k"),
]
BLOCKS_MISS = [
    ("Answer:\n- 18 apples", "-18", "gsm8k"),
    ("Answer:\n1. 18 apples", "1", "gsm8k"),
    ("Calculations:\ny = 40\n\nAnswer:\nx = y + 30\nx = 40 + 30\nx = 70", "30", "gsm8k"),
    ("Calculations:\ny = 40\n\nAnswer:\nx = y + 30\nx = 40 + 30\nx = 70", "40", "gsm8k"),
    ("Answer:\nx = y + 30", "30", "gsm8k"),
    (
        "96 potatoes x 6 = 576 hash browns\n\nAnswer:\n96 potatoes can make 576 hash browns.",
        "96",
        "gsm8k",
    ),
    (
        "Goal = $200\nTotal earnings = $83 + $91 = $174\n\nAnswer: They need $26 more to reach their goal of $200.",
        "200",
        "gsm8k",
    ),
    ("Answer:\n30 slices - 15 slices = 15 slices left.", "30", "gsm8k"),
    # several numbers and nothing to single one out: a reader cannot tell, so no pass
    ("Answer:\nMarissa walks the remaining 6 miles at a speed of 3 miles per hour.", "6", "gsm8k"),
    ("Answer:\nMarissa walks the remaining 6 miles at a speed of 3 miles per hour.", "3", "gsm8k"),
    # the work derived 22, the sentence adds a number it never wrote: conflicting evidence
    (
        "24 files - 2 apps = 22 files\n\nAnswer:\nDave has 22 files left, 20 more files than apps.",
        "22",
        "gsm8k",
    ),
    ("### Answer\nShe makes 18 dollars.\n\n### Check\n1. She has 16 eggs.", "1", "gsm8k"),
    # a structured answer in words states no number; no fallback guesses one from the reasoning
    ('{"reasoning": "4. We made an error.", "answer": "Cannot be determined"}', "4", "gsm8k"),
]


# MATH answers written as sentences (R1-Zero <answer> tags, JSON fields, labels).
SENTENCES_OK = [
    ("<answer> Hence, the degree of $f$ is 3. </answer>", "3", "math"),
    ("<answer> There are 9 multiples of 10 </answer>", "9", "math"),
    ("<answer> The flat fee is $\\$65$. </answer>", "\\$65", "math"),
    ("<answer> There are 3! = 6 arrangements of the digits 9, 8 and 7. </answer>", "6", "math"),
    (
        "<answer> So the length of $\\overline{AB}$ is:\n\\[\n\\overline{AB} = \\sqrt{2500} = 50"
        "\n\\]\n</answer>",
        "50",
        "math",
    ),
    (
        "<answer>\nConverting, we get:\n\\[\n216 = 3 \\cdot 64 + 24\n\\]\nReading the remainders,"
        " we get $3120_4$.</answer>",
        "3120_4",
        "math",
    ),
    (
        "Answer: the probability is $\\frac{1}{3}$, since 2 of the 6 outcomes are even.",
        "\\frac13",
        "math",
    ),
]
SENTENCES_MISS = [
    ("<answer> The square root of 64 is 8, and the cube root of 64 is 4. </answer>", "4", "math"),
    ("<answer> The square root of 64 is 8, and the cube root of 64 is 4. </answer>", "8", "math"),
    (
        "<answer>$32$ has to be multiplied by 2 at least once, i.e. it is $2^{8}$.</answer>",
        "32",
        "math",
    ),
    (
        "<answer> Its remainder by 3 is 2, so no digit gives a number divisible by 3.</answer>",
        "3",
        "math",
    ),
    (
        "The answer is 0.35625. </think> <answer> Yes, the answer is correct. </answer>",
        ".35625",
        "math",
    ),
]


@pytest.mark.parametrize("text, gold, task", SENTENCES_OK, ids=[r[0][:50] for r in SENTENCES_OK])
def test_math_sentences_pass(text, gold, task):
    for g in grade_both(text, gold, task, timeout=30):
        assert g.correct, g


@pytest.mark.parametrize(
    "text, gold, task", SENTENCES_MISS, ids=[r[0][:50] for r in SENTENCES_MISS]
)
def test_math_sentences_near_misses_fail(text, gold, task):
    for g in grade_both(text, gold, task, timeout=30):
        assert not g.correct, g


@pytest.mark.parametrize(
    "text, gold, task", OK + BLOCKS_OK, ids=[r[0][:50] for r in OK + BLOCKS_OK]
)
def test_styles_pass(text, gold, task):
    for g in grade_both(text, gold, task, timeout=30):
        assert g.correct, g


@pytest.mark.parametrize(
    "text, gold, task", MISS + BLOCKS_MISS, ids=[r[0][:50] for r in MISS + BLOCKS_MISS]
)
def test_styles_near_misses_fail(text, gold, task):
    for g in grade_both(text, gold, task, timeout=30):
        assert not g.correct, g


# Without a marker, flexible mode reads the conclusion sentence like a label's (reading.py),
# and falls back to the last number only when the sentence singles none out.
CONCLUSION_OK = [
    (
        "Number of Pizzas = (20 x 4) / 8 = 10\n\nSo John orders 10 pizzas so each of his 20 friends gets 4 slices.",
        "10",
    ),
    (
        "20 + 44 + x = 100\nx = 36\n\nThe sisters need 36 signatures to reach their goal of 100.",
        "36",
    ),
    ("She sells 16 - 3 - 4 = 9 eggs.\nTherefore she makes 9 * 2 = 18 dollars a day.", "18"),
    ("We find 12 eggs, then 3 more, 15 in all.", "15"),
]
CONCLUSION_MISS = [
    (
        "Number of Pizzas = (20 x 4) / 8 = 10\n\nSo John orders 10 pizzas so each of his 20 friends gets 4 slices.",
        "4",
    ),
    (
        "20 + 44 + x = 100\nx = 36\n\nThe sisters need 36 signatures to reach their goal of 100.",
        "100",
    ),
]


@pytest.mark.parametrize("text, gold", CONCLUSION_OK)
def test_conclusion_without_a_marker(text, gold):
    assert grade(text, gold, "gsm8k", "flexible", timeout=30).correct
    assert extract(text, "strict", "gsm8k") is None


@pytest.mark.parametrize("text, gold", CONCLUSION_MISS)
def test_conclusion_without_a_marker_near_misses(text, gold):
    assert not grade(text, gold, "gsm8k", "flexible", timeout=30).correct


def test_a_restated_question_is_not_a_run_on():
    # "Question:" before any answer: nothing is cut, the reply's own answer is read
    text = "Question: how many eggs are left?\nLet me compute: 16 - 3 - 4 = 9.\nThe answer is 9."
    assert extract(text, "strict", "gsm8k") == "9"


def test_a_lone_value_then_a_new_turn():
    # the prompt ended with "A:" (lm-eval, Kojima): the completion is the value, then a run-on
    text = " 18\n\nQ: What is 6 * 7?\nA: The answer is 42."
    assert extract(text, "flexible", "gsm8k") == "18"
    assert extract(text, "strict", "gsm8k") is None  # no marker before the invented turn
    assert not any(g.correct for g in grade_both(text, "42", "gsm8k"))


def test_sub_questions_without_an_answer_marker_are_not_cut():
    # least-to-most style: the model's own "Q: ... A: ..." steps, then its answer
    text = "Q: How many eggs remain? A: 16 - 3 - 4 = 9.\nQ: How much money? A: 9 * 2 = 18.\n"
    text += "The answer is 18."
    assert extract(text, "strict", "gsm8k") == "18"


_SHAPES = {  # adversarial 5 MB completions for the run-on cut and the sentence/block readers
    "turns": "The answer is 5.\nQuestion: ",
    "qa": "Q: 1\nA: 2\n",
    "chat": "<|im_start|>user 5 <|im_end|>",
    "blocks": "\nAnswer:\n",
    "sentences": "Answer: Tom has 5 apples and 6 pears. ",
    "fields": '"answer": "Tom has 5 apples, $6$ pears", ',
    "derived": "x = 3 + 4 = 7\n",
}


def _seconds(text: str) -> float:
    best = float("inf")
    for _ in range(3):  # best of three: a busy (shared) machine only ever adds time
        t = time.perf_counter()
        for task in ("gsm8k", "math"):
            grade_both(text, "42", task)
        best = min(best, time.perf_counter() - t)
    return best


@pytest.mark.slow
@pytest.mark.parametrize("shape", list(_SHAPES))
def test_reading_time_is_linear_in_completion_size(shape):
    # 4x the text must cost about 4x the time; a quadratic scan would cost 16x
    unit = _SHAPES[shape]
    sizes = (5 * 1024 * 1024 // 4, 5 * 1024 * 1024)
    times = [_seconds((unit * (n // len(unit) + 1))[:n]) for n in sizes]
    assert times[1] < 8 * times[0] + 0.5, (shape, times)
    assert times[1] < 30, (shape, times)
