"""A rewrite must be a clean question: no leaked value in any form, no preamble or commentary,
no invented follow-up, the original's conditions kept; a solution is cut at the first question
or turn the model invents. Tables of real strings (several are SmolLM2-135M's own output)."""

from __future__ import annotations

import pytest

from metamath.augment.backward import mask_question
from metamath.augment.filter import cut_run_on
from metamath.augment.leaks import evaluate, leaks, value_forms
from metamath.augment.question_checks import check_question
from metamath.augment.rephrase import check_rephrasing
from metamath.augment.self_verification import check_statement

NATALIA = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in "
    "May. How many clips did Natalia sell altogether in April and May?"
)
WENG = "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?"


@pytest.mark.parametrize(
    "text,value,count",
    [
        ("It's actually 42/3 = 12 pages", "12", 1),  # issue 14: x = 12 said outright
        ("She read twelve pages on Monday.", "12", 1),  # a number word
        ("She bought a dozen eggs.", "12", 1),
        ("She bought two dozen eggs.", "24", 1),
        ("That is twenty-four pages.", "24", 1),
        ("one hundred and five people", "105", 1),
        ("She read 24/2 pages.", "12", 1),  # a fraction
        ("She read \\frac{36}{3} pages.", "12", 1),  # a LaTeX fraction
        ("She read 48 - 36 pages.", "12", 1),  # an expression
        ("She read (10 + 2) pages.", "12", 1),
        ("She read 3 times 4 pages.", "12", 1),  # an expression in words
        ("She read 2 x 6 pages.", "12", 1),
        ("It costs 2^3 + 4 dollars.", "12", 1),
        ("He spent $1,200.00 on it.", "1200", 1),
        ("Half a dozen eggs.", "6", 1),
        ("Two thirds of them are red.", "2/3", 1),
        ("One and a half cups of flour.", "1.5", 1),
        ("75% of the class", "3/4", 1),
        ("0.75 of the class", "3/4", 1),
        ("Tom has 12 apples and 13 pears.", "12", 1),
        ("Tom has 12 apples and twelve pears.", "12", 2),
        ("Tom has x apples and 13 pears.", "12", 0),
        ("She read 42/3 pages.", "12", 0),  # 14, not 12
        ("Nothing numeric here at all.", "7", 0),
    ],
)
def test_value_forms(text, value, count):
    assert value_forms(text, value) == count


def test_expression_parser_is_bounded_and_never_evaluates_code():
    assert evaluate("2^3 + 4") == 12
    assert evaluate("2^300") is None  # exponent out of bounds
    assert evaluate("1/0") is None
    assert evaluate("__import__('os')") is None
    assert evaluate(" + ".join(["1"] * 40)) is None  # too many tokens


def test_a_value_already_in_the_source_is_no_leak():
    source = "Tom has x apples and 12 pears. How many fruits?"
    assert not leaks("Tom has x apples and 12 pears; that makes 20 fruits.", "12", source)
    assert leaks("Tom has x apples (a dozen) and 12 pears.", "12", source)


SV_Q = "Julie read x pages yesterday. Today she read 6 more pages than yesterday."
SV_SENTENCE = "How many pages did she read today?"


@pytest.mark.parametrize(
    "reply,reason",
    [
        ("She read 18 pages today.", None),
        # the masked value x = 12 given away, in four forms
        ("She read 18 pages today, since yesterday was 12.", "leak"),
        ("She read 18 pages today, which is six more than twelve.", "leak"),
        ("She read 18 pages today, 36/3 + 6.", "leak"),
        ("It's actually 18 pages today because 9 + 9 = 18.", "computation"),
        ("Sure! Here is the statement: She read 18 pages today.", "preamble"),
        ("1. Answer: 18 2. Statement: She read 18 pages today.", "follow_up"),
        (
            "She read 18 pages today. This statement is a logical fallacy because it assumes.",
            "commentary",
        ),
        ("She read 18 pages today. Yesterday was sunny.", "extra_text"),
        ("She read 18 pages today and 5 tomorrow.", "numbers_changed"),
        ("She read 18 pages.", None),
    ],
)
def test_sv_statement_is_a_clean_statement(reply, reason):
    got = check_statement(
        reply, SV_SENTENCE, "18", "x", value="12", question=f"{SV_Q} {SV_SENTENCE}"
    )
    assert got[1] == reason


@pytest.mark.parametrize(
    "original,reply,reason",
    [
        (
            NATALIA,
            "In April, Natalia sold clips to 48 friends; in May she sold half as many. What is "
            "the total number of clips she sold in April and May?",
            None,
        ),
        # SmolLM2 quoted the prompt back before its rewrite
        (
            NATALIA,
            "You wrote: Natalia sold clips to 48 of her friends in April. Natalia sold half as "
            "many clips in May. How many clips did she sell?",
            "preamble",
        ),
        (NATALIA, "Sure! Here is the rephrased question: " + NATALIA.lower(), "preamble"),
        (
            NATALIA,
            "Natalia sold clips to 48 friends in April and half as many in May. How many clips "
            "did she sell in all? (Note: I kept all the numbers.)",
            "commentary",
        ),
        (
            NATALIA,
            "Natalia sold clips to 48 friends in April and half as many in May. How many clips "
            "did she sell in all? How many did she sell in June?",
            "follow_up",
        ),
        # every number kept, a condition dropped: "half as many" is gone
        (
            NATALIA,
            "Natalia sold clips to 48 of her friends in April and some more in May. How many "
            "clips did she sell in April and May?",
            "condition_lost",
        ),
        # the rate "an hour" dropped: the numbers survive, the problem does not
        (
            WENG,
            "Weng earns $12 for babysitting. Yesterday she babysat for 50 minutes. How much did "
            "she earn?",
            "condition_lost",
        ),
        (
            WENG,
            "Weng earns 12 an hour for babysitting and did 50 minutes of it yesterday. How much did "
            "she earn?",
            "unit_lost",
        ),
        (
            NATALIA,
            "Natalia sold clips to 48 of her friends in April and half as many in May. How many "
            "friends did she have?",
            "target_changed",
        ),
        # the answer (72) given away as words
        (
            NATALIA,
            "Natalia sold clips to 48 friends in April and half as many in May, seventy-two in "
            "all. How many clips did she sell altogether?",
            "leak",
        ),
    ],
)
def test_rephrasing_is_a_clean_question(original, reply, reason):
    assert check_rephrasing(original, reply, "72" if original is NATALIA else "10")[1] == reason


def test_math_rephrasing_keeps_its_formulas():
    q = "Find the sum of all $x$ such that $x^2 - 5x + 6 = 0$."
    ok = "What is the sum of every $x$ for which $x^2 - 5x + 6 = 0$?"
    bad = "What is the sum of every $x$ for which $x^2 - 5x = 0$ and 6 more?"
    assert check_question(ok, q, hidden="5", kind="math") is None
    assert check_question(bad, q, hidden="5", kind="math") == "math_changed"


def test_mask_restating_its_value_is_not_used():
    from metamath.augment.fobar import backward_masks, mask_records
    from metamath.augment.seeds import Seed
    from metamath.records import Problem

    q = "Sam bought 12 (a dozen) eggs and 5 apples. How many items did he buy?"
    seed = Seed(Problem(id="t/1", question=q, gold="17", source="t"), "gsm8k", "17")
    assert [m.value for m in mask_question(q, "t/1")] == ["12", "5"]
    assert [m.value for m in backward_masks(seed)] == ["5"]
    recs = {r["value"]: r["reason"] for r in mask_records(seed)}
    assert recs == {"12": "leak", "5": None}


@pytest.mark.parametrize(
    "reply,kept",
    [
        # SmolLM2 in chat style: the answer, then a made-up next problem
        (
            "48 / 2 = 24 clips in May.\n48 + 24 = 72.\nThe answer is: 72\n\nQuestion: Tom has 5 "
            "apples. How many?\nAnswer: 5",
            "48 / 2 = 24 clips in May.\n48 + 24 = 72.\nThe answer is: 72",
        ),
        (
            "She earns 12 / 60 = 0.2 per minute, so 0.2 * 50 = 10.\nThe answer is: 10\nNow, "
            "what if she worked 2 hours? She would earn 24.",
            "She earns 12 / 60 = 0.2 per minute, so 0.2 * 50 = 10.\nThe answer is: 10",
        ),
        (
            "x + 6 = 18, so x = 12.\nThe value of x is 12.\n<|im_start|>user\nNext",
            "x + 6 = 18, so x = 12.\nThe value of x is 12.",
        ),
        ("Step 1: 3 + 4 = 7.\nThe answer is: 7", "Step 1: 3 + 4 = 7.\nThe answer is: 7"),
        ("No answer line yet\nQ2: another one?", "No answer line yet"),
    ],
)
def test_solutions_are_cut_at_an_invented_follow_up(reply, kept):
    assert cut_run_on(reply) == kept


@pytest.mark.parametrize(
    "reply,reason",
    [
        ("Samantha's last name has 7 letters.", None),
        # SmolLM2's statement that was kept before: it no longer says what is 7
        ("The answer to this question is 7.", "answer_phrase"),
        ("Samantha is 7.", "content_lost"),
        ("There are 7 names in total.", "content_lost"),
    ],
)
def test_sv_statement_keeps_what_is_asked(reply, reason):
    sentence = "How many letters are in Samantha's last name?"
    assert check_statement(reply, sentence, "7", "x")[1] == reason


# The two rows SmolLM2-135M had kept from 20 GSM8K + 10 MATH seeds: right final answer, wrong work.
KEN = (
    "When Ken placed the jelly beans into the box of goodies, he added 2 jelly beans to the box, "
    "so he has 2 * 2 = 4 jelly beans in the box.\nWhen he added the gummy worms, he added the "
    "same amount to the box, so he has 4 * 4 = 16 gummy worms in the box.\nThe final weight of "
    "the box of goodies is the weight of gummies, so it is 16 * 10 = 16 gummy worms\nThe answer "
    "is: 16"
)
BETTY = (
    "We know that the total amount of money Betty needs to buy the wallet is half of the original "
    "price, which is $100 * 2 = $200.\nSo the amount of money she needs to buy the wallet is "
    "$480 - $240 = $160.\nThe value of x is 15."
)


@pytest.mark.parametrize(
    "reply,target,task,reason",
    [
        (KEN, "16", "gsm8k", "arithmetic_error"),
        (BETTY, "15", "gsm8k_backward", "arithmetic_error"),
        # the answer appears only on the final line: guessed, not derived
        (
            "Betty needs money for the wallet and gets some from her parents.\nThe value of x is 15.",
            "15",
            "gsm8k_backward",
            "unsupported_answer",
        ),
        (
            "She sold 48/2 = 24 clips in May, so 48 + 24 = 72 in all.\nThe answer is: 72",
            "72",
            "gsm8k",
            "correct",
        ),
        (
            "Each minute pays 12/60 = 0.2 dollars, so 50 minutes pay 0.2 x 50 = 10.\nThe answer is: 10",
            "10",
            "gsm8k",
            "correct",
        ),
        (
            "A third is 1/3 = 0.33 of 30, so she gives 10 away.\nThe answer is: 10",
            "10",
            "gsm8k",
            "correct",
        ),
    ],
)
def test_a_kept_reply_is_a_solution(reply, target, task, reason):
    from metamath.augment.filter import judge

    assert judge(reply, target, task)[1] == reason


@pytest.mark.parametrize(
    "text",
    ["1 + " * 2000 + "a", "(1 + " * 2000 + "a", "1 = " * 2000 + "x", "1" + " " * 5000 + "+a"],
)
def test_arithmetic_scans_stay_linear_on_hostile_text(text):
    """Model text is scanned with single character classes: these took minutes (exponential
    backtracking) with nested quantifiers."""
    import time

    from metamath.augment.filter import arithmetic_error
    from metamath.augment.leaks import forms

    t0 = time.monotonic()
    forms(text)
    arithmetic_error(text)
    assert time.monotonic() - t0 < 5
