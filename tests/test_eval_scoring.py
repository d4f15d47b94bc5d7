"""Scoring a fixed set of completions with known labels gives exactly the expected accuracy,
overall and per MATH subject and level.

The completions are built at test time from the real reference solutions (the data is not
committed): label "right" is the real solution followed by MetaMath's marker with the gold;
"wrong" is the same solution with its final answer replaced by 987654321; "box_only" is the
real MATH solution as written (\\boxed{} and no marker: strict finds no answer, flexible reads
the box; a solution's own "the answer is" phrase, which the strict grader accepts as a
marker, is reworded to "the result is"). Everything runs through run_eval and the real
metamath.answers grader.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

import pytest

from metamath.data import load
from metamath.evaluate import EvalConfig, run_eval, score_file
from metamath.evaluate.prompting import request_id
from test_eval import ScriptedLLM

WRONG = "987654321"
LABELS = ("right", "wrong", "box_only")


def _completion(task: str, p, label: str) -> str:
    if task == "gsm8k_backward":  # no reference solution: a short worked line
        ans = p.gold if label == "right" else WRONG
        return (
            f"Solving for x gives {ans}.\nThe answer is: {ans}"
            if label != "box_only"
            else "I am not sure."
        )
    if task == "gsm8k":
        reasoning = p.solution.rsplit("####", 1)[0].rstrip()
        if label == "box_only":  # GSM8K has no box; make it a plain non-answer
            return "I am not sure."
        return f"{reasoning}\nThe answer is: {p.gold if label == 'right' else WRONG}"
    sol = p.solution
    if label == "right":
        return f"{sol}\nThe answer is: {p.gold}"
    if label == "box_only":
        return re.sub(r"answer is", "result is", sol, flags=re.IGNORECASE)
    box = "\\boxed{" + p.gold + "}"
    body = (
        sol[: sol.rfind(box)] + "\\boxed{" + WRONG + "}" + sol[sol.rfind(box) + len(box) :]
        if box in sol
        else "We compute."
    )
    return f"{body}\nThe answer is: {WRONG}"


@pytest.mark.parametrize("task,limit", [("math500", 90), ("gsm8k", 45), ("gsm8k_backward", 30)])
def test_known_labels_give_exact_scores(task, limit, tmp_path, data_dir):
    problems = load(task, limit=limit)
    labels = {p.id: LABELS[i % 3] for i, p in enumerate(problems)}
    table = {request_id(task, p.id): _completion(task, p, labels[p.id]) for p in problems}
    llm = ScriptedLLM(lambda req, k: table[req.id])
    res = run_eval(
        EvalConfig(model="labels", tasks=[task], limit=limit, cache=False),
        tmp_path,
        llm=llm,
        progress=False,
    )
    m = res["tasks"][task]["metrics"]

    def flex_ok(label: str) -> bool:
        return label == "right" or (label == "box_only" and task == "math500")

    n_right = sum(v == "right" for v in labels.values())
    n_flex = sum(flex_ok(v) for v in labels.values())
    bad = [
        (r["id"], r["gold"], r["strict"], r["flexible"])
        for r in map(json.loads, (tmp_path / "samples.jsonl").read_text().splitlines())
        if r["strict"]["correct"] != (labels[r["problem_id"]] == "right")
        or r["flexible"]["correct"] != flex_ok(labels[r["problem_id"]])
    ]
    assert not bad, f"grader disagrees with the labels on {len(bad)} items: {bad[:5]}"
    assert m["strict"]["correct"] == n_right and m["flexible"]["correct"] == n_flex
    assert m["strict"]["accuracy"] == pytest.approx(n_right / limit)
    assert m["flexible"]["accuracy"] == pytest.approx(n_flex / limit)
    assert m["strict"]["reasons"]["mismatch"] == sum(v == "wrong" for v in labels.values())
    if task == "math500":
        for key, attr in (("by_subject", "subject"), ("by_level", "level")):
            expect: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
            for p in problems:
                e = expect[getattr(p, attr)]
                e[0] += 1
                e[1] += labels[p.id] == "right"
                e[2] += flex_ok(labels[p.id])
            assert set(m[key]) == set(expect)
            for g, (n, s, f) in expect.items():
                assert (
                    m[key][g]["n"],
                    m[key][g]["strict_correct"],
                    m[key][g]["flexible_correct"],
                ) == (n, s, f), (key, g)
    assert score_file(tmp_path / "samples.jsonl")[task] == m


# The same check on the full test sets (7,589 items). It first found 15 MATH golds written
# with an escaped dollar sign ("\\$36") that never matched; metamath.answers fixed that, and
# the sets now score exactly.
@pytest.mark.slow
@pytest.mark.parametrize("task", ["math", "gsm8k", "gsm8k_backward"])
def test_known_labels_on_the_full_test_sets(task, tmp_path, data_dir):
    problems = load(task)
    labels = {p.id: LABELS[i % 3] for i, p in enumerate(problems)}
    table = {request_id(task, p.id): _completion(task, p, labels[p.id]) for p in problems}
    res = run_eval(
        EvalConfig(model="labels", tasks=[task], cache=False),
        tmp_path,
        llm=ScriptedLLM(lambda req, k: table[req.id]),
        progress=False,
    )
    rows = [json.loads(x) for x in (tmp_path / "samples.jsonl").read_text().splitlines()]
    flex = {"right"} | ({"box_only"} if task == "math" else set())
    bad = [
        (r["id"], r["gold"], r["strict"], r["flexible"])
        for r in rows
        if r["strict"]["correct"] != (labels[r["problem_id"]] == "right")
        or r["flexible"]["correct"] != (labels[r["problem_id"]] in flex)
    ]
    assert not bad, f"{len(bad)} disagreements: {bad[:5]}"
    m = res["tasks"][task]["metrics"]
    assert m["n_problems"] == res["tasks"][task]["expected_size"] == len(problems)
    assert m["strict"]["correct"] == sum(v == "right" for v in labels.values())
    assert m["flexible"]["correct"] == sum(v in flex for v in labels.values())
