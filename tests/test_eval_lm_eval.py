"""The `lm_eval` prompt style reproduces lm-evaluation-harness's gsm8k task: checked against
lm-eval's own sampler, filters and metric (installed with the lm_eval extra)."""

from __future__ import annotations

import pytest

from metamath.evaluate import lm_eval_gsm8k as L

COMPLETIONS = [
    " Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72",
    " She has 16 - 3 - 4 = 9 eggs. She makes 9 * 2 = $18.\n#### 18",
    " The answer is: 18",
    " So the total is $1,200.50.",
    " It takes 3 hours.\nThe answer is 3.",
    " #### -5",
    " No numbers at all",
    " 12 apples, then 5. Finally 7",
    " The answer is $18.00.",
]


def test_fewshot_plan_is_lm_evals_sampler():
    samplers = pytest.importorskip("lm_eval.api.samplers")
    sampler = samplers.ContextSampler(list(range(7473)), rnd=L.FEWSHOT_SEED)
    theirs = [list(sampler.sample(n=L.NUM_FEWSHOT)) for _ in range(25)]
    assert L.fewshot_plan(25, 7473) == theirs


@pytest.mark.parametrize("completion", COMPLETIONS)
def test_filters_and_metric_are_lm_evals(completion):
    extraction = pytest.importorskip("lm_eval.filters.extraction")
    metrics = pytest.importorskip("lm_eval.api.metrics")
    from pathlib import Path

    import lm_eval
    import yaml

    task = yaml.safe_load(
        (Path(lm_eval.__file__).parent / "tasks" / "gsm8k" / "gsm8k.yaml").read_text()
    )
    ignore = task["metric_list"][0]["regexes_to_ignore"]
    reference = "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n#### 18"
    for f in task["filter_list"]:
        regex = f["filter"][0]
        got = extraction.RegexFilter(
            regex_pattern=regex["regex_pattern"], group_select=regex.get("group_select", 0)
        ).apply([[completion]], [{}])[0][0]
        assert L.extract(completion, f["name"]) == got
        em = metrics.exact_match_hf_evaluate(
            [got], [reference], regexes_to_ignore=ignore, ignore_case=True
        )
        assert L.exact_match(got, reference) == bool(em["exact_match"])


def test_prompt_layout():
    p = L.prompt("Q3?", [("Q1?", "A1\n#### 1"), ("Q2?", "A2\n#### 2")])
    assert (
        p
        == "Question: Q1?\nAnswer: A1\n#### 1\n\nQuestion: Q2?\nAnswer: A2\n#### 2\n\nQuestion: Q3?\nAnswer:"
    )


def test_lm_eval_style_checks_its_task():
    from metamath.evaluate import EvalConfig

    with pytest.raises(ValueError, match="lm-evaluation-harness's gsm8k"):
        EvalConfig(model="m", tasks=["math"], prompt_style="lm_eval").check()
