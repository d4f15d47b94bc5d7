"""The checks between the teacher and the dataset: rephrasings, SV split and statements, the
filter and answer line, dedup, decontamination, prompts, seeds and config."""

from __future__ import annotations

import pytest

from metamath.augment.answer_aug import exemplar_solution
from metamath.augment.decontaminate import NgramIndex
from metamath.augment.dedup import exact_key, jaccard, near_duplicates, shingles
from metamath.augment.filter import format_response, judge, strip_answer_lines
from metamath.augment.rephrase import check_rephrasing, numbers
from metamath.augment.seeds import normalise_gold
from metamath.augment.self_verification import (
    carries_answer,
    check_statement,
    sentences,
    split_question,
)
from metamath.prompts.augment import fobar_question, render, sv_question

Q = "Weng earns $12 an hour for babysitting. Yesterday, she did 50 minutes. How much did she earn?"


@pytest.mark.parametrize(
    "reply,reason",
    [
        ("", "empty"),
        (None, "empty"),
        (
            "   weng earns $12 an hour for babysitting yesterday she did 50 minutes how much did she "
            "earn",
            "copy",
        ),
        (
            "Weng is paid $12 per hour to babysit. How much did she make for babysitting yesterday?",
            "numbers_lost",
        ),
        (
            "Weng is paid $12 per hour to babysit. She babysat 55 minutes yesterday. How much did "
            "she make?",
            "numbers_lost",
        ),
        (
            "Weng is paid $12 per hour to babysit; yesterday she sat for 50 minutes plus 5 more. "
            "What did she earn?",
            "numbers_changed",
        ),
        (
            "Rephrased question: Weng is paid $12 per hour to babysit and worked fifty minutes "
            "yesterday... no, 50 minutes. What did she earn?",
            None,
        ),
        (
            "Weng is paid twelve dollars per hour to babysit, and she worked 50 minutes yesterday. "
            "What did she earn?",
            None,
        ),
    ],
)
def test_rephrasing_checks(reply, reason):
    assert check_rephrasing(Q, reply)[1] == reason


def test_rephrasing_cuts_run_on_and_labels():
    text, reason = check_rephrasing(
        Q,
        'Rephrased question: "Weng makes $12 hourly; she worked '
        '50 minutes. Her pay?"\nQuestion: next one',
    )
    assert reason is None and text == "Weng makes $12 hourly; she worked 50 minutes. Her pay?"


def test_numbers_reads_words_and_groups():
    assert numbers("five apples cost $1,200.50 and 3/4") == {"5", "1200.5", "3", "4"}


@pytest.mark.parametrize(
    "text,expected",
    [
        # decimals and abbreviations do not end a sentence
        (
            "A pen costs $2.50. Mr. Lee buys x pens. How much does he pay?",
            ["A pen costs $2.50.", "Mr. Lee buys x pens.", "How much does he pay?"],
        ),
        # a period inside a formula does not end a sentence
        ("Let $a = 3.5$. Find $a^2$.", ["Let $a = 3.5$.", "Find $a^2$."]),
    ],
)
def test_sentences(text, expected):
    assert sentences(text, "math" if "$a" in text else "gsm8k") == expected


def test_split_imperative_question_is_never_empty():
    # the original split on the last period and got "" for questions ending in "."
    q = "If $y = 2x$ and $x$ is X, then find $y$ when $y$ is 4000."
    base, sentence = split_question(q, "math")
    assert sentence.strip() and sentence.endswith("4000.")


def test_split_sets_format_instructions_aside():
    base, sentence = split_question(
        "A bag has X red and 5 blue balls. What is the probability "
        "of red? Express your answer as a common fraction."
    )
    assert sentence == "What is the probability of red?"
    assert base == "A bag has X red and 5 blue balls."


@pytest.mark.parametrize(
    "reply,reason",
    [
        ("The answer is 10.", "answer_phrase"),  # the released MATH_SV leak (method reference 1.6)
        ("So the final answer is 10 apples.", "answer_phrase"),
        ("", "empty"),
        ("How many apples does Sam have left?", "unchanged"),
        ("Does Sam have 10 apples left?", "still_question"),
        ("Sam has some apples left.", "answer_missing"),
        ("Sam has 10 apples left.", None),
        ("Statement: Sam has 10.0 apples left.\nQuestion: more", None),
    ],
)
def test_sv_statement_checks(reply, reason):
    assert check_statement(reply, "How many apples does Sam have left?", "10", "x")[1] == reason


def test_sv_statement_keeps_the_variable():
    s = "How much does he spend in x weeks?"
    assert (
        check_statement("He spends 40 dollars in some weeks.", s, "40", "x")[1] == "variable_lost"
    )
    assert check_statement("He spends 40 dollars in x weeks.", s, "40", "x")[1] is None


def test_sv_question_never_contains_the_answer_phrase():
    base, sentence = split_question("Find the value of $a+b$ when $a$ is X and $b$ is 2.", "math")
    st, reason = check_statement("The answer is 5.", sentence, "5", "X")
    assert reason == "answer_phrase"
    st, reason = check_statement(
        "The value of $a+b$ when $a$ is X and $b$ is 2 is 5.", sentence, "5", "X"
    )
    assert reason is None
    q = sv_question(base, st, "X")
    assert "answer is" not in q.lower() and q.endswith("What is the value of unknown variable X?")


@pytest.mark.parametrize(
    "statement,gold,ok",
    [
        ("It is $\\frac{1}{3}$ of the total.", "\\frac{1}{3}", True),
        ("It is 3 of the total.", "\\frac{1}{3}", False),  # the original's last-number gold bug
        ("It costs 1,200 dollars.", "1200", True),
        ("It costs 12 dollars.", "1200", False),
    ],
)
def test_carries_answer(statement, gold, ok):
    assert carries_answer(statement, gold) is ok


def test_fobar_format_is_the_papers():
    assert fobar_question("Tom has x apples.", "7") == (
        "Tom has x apples.\nIf we know the answer to the above question is 7, what is the value "
        "of unknown variable x?"
    )


@pytest.mark.parametrize(
    "text,target,task,finish,expected",
    [
        ("We add: 3 + 4 = 7.\nThe answer is: 7", "7", "gsm8k", "stop", (True, "correct")),
        ("3 + 4 = 8.\nThe answer is: 8", "7", "gsm8k", "stop", (False, "mismatch")),
        ("3 + 4 = 7.\nThe answer is: 7", "7", "gsm8k", "length", (False, "truncated")),
        ("The answer is: 7", "7", "gsm8k", "stop", (False, "no_reasoning")),
        ("The value of x is 7.", "7", "gsm8k_backward", "stop", (False, "no_reasoning")),
        (
            "2x + 3 = 17, so x = 7.\nThe value of x is 7.",
            "7",
            "gsm8k_backward",
            "stop",
            (True, "correct"),
        ),
        (
            "Half of it is $\\boxed{\\frac{1}{2}}$.\nThe answer is: \\frac12",
            "0.5",
            "math",
            "stop",
            (True, "correct"),
        ),
        # no stated answer: the last-expression guess that scores an evaluation never makes a
        # training row (noise that holds the gold's digits, a reply ending in prose)
        (
            "sand)$2$- odd ste binom)$, some 80<< ar 17 j figure",
            "17",
            "math",
            "stop",
            (False, "no_answer"),
        ),
        (
            "We add 3 and 4 to get 7 apples in the basket now",
            "7",
            "gsm8k",
            "stop",
            (False, "no_answer"),
        ),
        (
            "We add 3 and 4 and get $\\boxed{7}$ apples in all.",
            "7",
            "gsm8k",
            "stop",
            (True, "correct"),
        ),
        ("We add 3 and 4 and get 7, so", "7", "gsm8k", "length", (False, "truncated")),
    ],
)
def test_judge(text, target, task, finish, expected):
    assert judge(text, target, task, finish)[:2] == expected


def test_format_response_gsm8k_and_math():
    assert (
        format_response("48/2 = 24\n48+24 = 72\nThe answer is 72.", "72", "gsm8k")
        == "48/2 = 24\n48+24 = 72\n#### 72\nThe answer is: 72"
    )
    assert (
        format_response("So x = 5.\nThe value of x is 5.\n#### 5", "5", "gsm8k")
        == "So x = 5.\nThe value of x is 5.\n#### 5\nThe answer is: 5"
    )
    assert (
        format_response(
            "It is $\\boxed{\\sqrt{5}}$.\nThe answer is: $\\sqrt5$", "\\sqrt{5}", "math"
        )
        == "It is $\\boxed{\\sqrt{5}}$.\nThe answer is: \\sqrt{5}"
    )
    assert strip_answer_lines("a\nFinal answer: 3\n\n") == "a"


def test_exact_and_near_duplicates():
    a = "First we add 3 and 4 to get 7 apples in the basket, then we are done counting."
    b = "First we add 3 and 4 to get 7 apples in the basket, then we are done counting!"
    c = "Multiply the price by the count: 12 times 5 is 60 dollars spent at the store today."
    assert exact_key("q", a) == exact_key("q ", a.replace(" ", "  "))
    d = a.replace("basket", "big basket")  # 2 of 16 three-grams replaced by 3: Jaccard 14/19
    assert jaccard(shingles(a), shingles(b)) == 1.0
    assert jaccard(shingles(a), shingles(d)) == pytest.approx(14 / 19)
    assert jaccard(shingles(a), shingles(c)) < 0.1
    assert near_duplicates(
        [("id2", shingles(b)), ("id1", shingles(a)), ("id3", shingles(c))], 0.9
    ) == {"id2"}
    assert near_duplicates([("id1", shingles(a)), ("id4", shingles(d))], 0.7) == {"id4"}
    assert near_duplicates([("id1", shingles(a)), ("id4", shingles(d))], 0.75) == set()
    assert near_duplicates([("id1", shingles(a)), ("id2", shingles(b))], 1.0) == set()


def test_decontamination_ngram_index():
    idx = NgramIndex(n=5)
    idx.add("gsm8k:t/1", "Janet's ducks lay 16 eggs per day and she eats three")
    idx.add("math:t/2", "Compute 2+2.")
    assert idx.match("So, Janet's ducks lay 16 eggs per day; how many?") == "gsm8k:t/1"
    assert idx.match("compute 2 + 2") == "math:t/2"  # short problems match whole
    assert idx.match("Janet's geese lay 16 eggs each day") is None


def test_render_styles_and_errors():
    r = render("answer_aug", "gsm8k", question="Q?", exemplars=[("q1", "s1\nThe answer is: 1")])
    assert r.messages[1]["content"].endswith("Question: Q?\nAnswer:")
    assert r.version == "answer_aug/gsm8k/v2"
    c = render("fobar", "math", question="Q?", style="completion")
    assert c.prompt.endswith("Question: Q?\nAnswer:") and c.stop == ("\nQuestion:",)
    assert (
        render("answer_aug", "math", question="Q?").messages[1]["content"]
        == "Question: Q?\nAnswer:"
    )  # zero-shot with a chat model
    with pytest.raises(ValueError, match="completion style needs"):
        render("answer_aug", "gsm8k", question="Q?", style="completion")
    with pytest.raises(ValueError, match="answer="):
        render("sv_rewrite", "gsm8k", question="Q?")
    with pytest.raises(ValueError, match="technique"):
        render("nope", "gsm8k", question="Q?")


def test_gold_normalisation_and_exemplar_format():
    assert normalise_gold("1,000.0", "gsm8k") == "1000"
    assert normalise_gold("$\\frac{1}{2}$", "math") == "\\frac{1}{2}"
    from metamath.augment.seeds import Seed
    from metamath.records import Problem

    p = Problem("g/1", "Q", "72", "gsm8k", solution="48/2 = <<48/2=24>>24\n#### 72")
    assert exemplar_solution(Seed(p, "gsm8k", "72")) == "48/2 = 24\nThe answer is: 72"


def test_config_errors_name_the_field(tmp_path):
    from metamath.augment.config import AugmentConfig
    from metamath.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="answer_aug"):
        load_config(AugmentConfig, None, ["answer_ag.k=3"])
    cfg = load_config(AugmentConfig, None, ["targets={GSM_Ansaug: 3}"])
    with pytest.raises(ValueError, match="GSM_Ansaug"):
        cfg.check()
    with pytest.raises(ValueError, match="shard"):
        load_config(AugmentConfig, None, ["shard=3/2"]).check()
