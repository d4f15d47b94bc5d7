"""Eval prompt styles: the paper's Alpaca prompt verbatim, the few-shot exemplars (answers
checked by independent arithmetic, no test-set leak), and the chat messages."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from metamath.answers import grade
from metamath.evaluate import fewshot
from metamath.evaluate.prompting import DEFAULT_STOP, PAPER_STOP, build_request, render_prompt
from metamath.records import Problem
from metamath.tasks import TASKS

Q = Problem(id="p1", question="What is 2 + 3?", gold="5", source="t")

# Each GSM8K exemplar's answer, computed here from its question independently of its text.
GSM8K_CHECK = [
    48 + 36 - 59,
    5 * 15 + 2 * 30,
    (240 - 90) // 25,
    -(-200 // 42),
    6 * 8 * 5 - 6 * 8 * 5 // 4,
    (30 - 3 - 3 - 4) // 2 + 4,
    3 * (40 - 40 * 15 // 100),
    120 // (8 - 3),
]


def test_paper_alpaca_prompt_verbatim():
    # eval_gsm8k.py's problem_prompt (method reference §4.1), character for character
    expected = (
        "Below is an instruction that describes a task. Write a response that "
        "appropriately completes the request.\n\n### Instruction:\nWhat is 2 + 3?\n\n"
        "### Response: Let's think step by step."
    )
    assert (
        render_prompt(Q, TASKS["gsm8k"], "alpaca", alpaca_style="original_eval")["prompt"]
        == expected
    )


def test_default_eval_prompt_is_the_training_prompt():
    # issue 5/6: a model trained by `metamath train` (default prompt_style=metamath) is
    # evaluated on exactly the text it was trained with
    from metamath.evaluate.run import EvalConfig
    from metamath.prompts.alpaca import render

    cfg = EvalConfig()
    got = render_prompt(Q, TASKS["gsm8k"], cfg.prompt_style, alpaca_style=cfg.alpaca_style)
    assert got["prompt"] == render(Q.question, style="metamath")
    assert got["prompt"].endswith("### Response:\n")
    assert PAPER_STOP == (
        "Question:",
        "Question",
        "USER:",
        "USER",
        "ASSISTANT:",
        "ASSISTANT",
        "Instruction:",
        "Instruction",
        "Response:",
        "Response",
    )


def test_gsm8k_exemplars_are_right():
    assert len(fewshot.GSM8K) == 8
    assert [int(a) for _, _, a in fewshot.GSM8K] == GSM8K_CHECK
    for _, sol, ans in fewshot.GSM8K:
        assert grade(f"{sol} The answer is: {ans}", ans, "gsm8k", mode="strict").correct


def test_math_exemplars_are_right():
    assert len(fewshot.MATH) == 4
    # x^2-5x+6 roots sum (Vieta) 5; 7^100 mod 5; P(sum 9) with two dice; sqrt(72) = 6 sqrt(2)
    dice = Fraction(sum(a + b == 9 for a in range(1, 7) for b in range(1, 7)), 36)
    assert [5, pow(7, 100, 5), dice, 6 * 6 * 2] == [5, 1, Fraction(1, 9), 72]
    for _, sol, ans in fewshot.MATH:
        assert grade(sol, ans, "math", mode="flexible").correct  # its box holds the answer


def test_fewshot_blocks_end_where_the_model_continues():
    g = render_prompt(Q, TASKS["gsm8k"], "fewshot")["prompt"]
    assert g.endswith("Question: What is 2 + 3?\nAnswer:") and g.count("The answer is: ") == 8
    m = render_prompt(Q, TASKS["math"], "fewshot", fewshot_k=2)["prompt"]
    assert m.endswith("Problem:\nWhat is 2 + 3?\n\nSolution:\n") and m.count("Problem:") == 3
    req = build_request(
        Q,
        TASKS["gsm8k"],
        style="fewshot",
        n=1,
        temperature=0.0,
        top_p=1.0,
        max_tokens=512,
        stop=None,
        seed=0,
    )
    assert req.stop == DEFAULT_STOP["fewshot"] and req.id == "gsm8k/p1"


def test_chat_style_builds_messages():
    body = render_prompt(Q, TASKS["math500"], "chat", system_prompt="You are careful.")
    assert body["messages"][0] == {"role": "system", "content": "You are careful."}
    assert body["messages"][1]["content"].startswith("What is 2 + 3?\n")
    with pytest.raises(ValueError, match="prompt_style"):
        render_prompt(Q, TASKS["gsm8k"], "zeroshot")


def test_exemplars_are_not_dataset_rows(data_dir):
    # Our own wording: no exemplar question occurs in the GSM8K or MATH files (train or test).
    rows = [
        json.loads(line)
        for f in ("gsm8k/train.jsonl", "gsm8k/test.jsonl", "math/train.jsonl", "math/test.jsonl")
        for line in (data_dir / f).read_text(encoding="utf-8").split("\n")
        if line.strip()
    ]
    text = "\n".join(r.get("question", "") + r.get("problem", "") for r in rows)
    for q, _, _ in fewshot.GSM8K + fewshot.MATH:
        assert q[:60] not in text, q
