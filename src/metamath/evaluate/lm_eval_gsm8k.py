"""lm-evaluation-harness's `gsm8k` task (task version 3.0, lm-eval 0.4.x), reproduced as the
`lm_eval` prompt style of `metamath eval`, so our numbers can be checked item by item against
lm-eval's (benchmarks/lm_eval_agreement.py).

    metamath eval --model M --tasks gsm8k --prompt-style lm_eval --limit 50

From lm_eval/tasks/gsm8k/gsm8k.yaml: 5-shot, exemplars drawn from the train split by lm-eval's
ContextSampler (one random.Random(1234) shared by the whole run, `sample(train, 5)` for each test
document in order, so document i's exemplars depend on its position); each turn
"Question: {question}\\nAnswer: {answer}" with the full train answer (calculator annotations and
"#### N" included) and turns joined by "\\n\\n"; greedy, at most 256 new tokens (lm-eval's
max_gen_toks default), stop at "Question:", "</s>", "<|im_end|>". Scoring: two regex filters on
the completion, then exact match against the gold after deleting ",", "$", everything up to
"#### " and a final "." (case-insensitive):
  strict-match      the first "#### (-?[0-9.,]+)"
  flexible-extract  the last match of "(-?[$0-9.,]{2,})|(-?[0-9]+)"
The model's text is never changed; these scores sit beside our grader's in results.json.
"""

from __future__ import annotations

import random
import re
from typing import Any

NUM_FEWSHOT = 5
FEWSHOT_SEED = 1234  # lm-eval's simple_evaluate(fewshot_random_seed=1234)
MAX_TOKENS = 256  # lm-eval's max_gen_toks default for generate_until
STOP = ("Question:", "</s>", "<|im_end|>")
FILTERS = {
    "strict-match": (re.compile(r"#### (\-?[0-9\.\,]+)"), 0),
    "flexible-extract": (re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)"), -1),
}
_IGNORE = (",", r"\$", r"(?s).*#### ", r"\.$")  # metric_list[0].regexes_to_ignore, in order
FALLBACK = "[invalid]"


def fewshot_plan(n_docs: int, n_train: int, k: int = NUM_FEWSHOT, seed: int = FEWSHOT_SEED):
    """The train indices lm-eval puts before each of the first n_docs test documents."""
    rnd = random.Random(seed)
    return [rnd.sample(range(n_train), k) for _ in range(n_docs)]


def prompt(question: str, shots: list[tuple[str, str]]) -> str:
    turns = "".join(f"Question: {q}\nAnswer: {a}\n\n" for q, a in shots)
    return f"{turns}Question: {question}\nAnswer:"


def extract(text: str, name: str) -> str:
    """lm-eval's RegexFilter: findall, pick the group_select-th match, its first non-empty
    group, stripped; "[invalid]" when nothing matches."""
    pattern, select = FILTERS[name]
    found = pattern.findall(text)
    if not found:
        return FALLBACK
    m = found[select]
    if isinstance(m, tuple):
        m = next((g for g in m if g), FALLBACK)
    return m.strip()


def _normalise(s: str) -> str:
    for pat in _IGNORE:
        s = re.sub(pat, "", s)
    return s.lower()


def exact_match(prediction: str, reference: str) -> bool:
    """lm-eval's exact_match with the task's regexes_to_ignore and ignore_case."""
    return _normalise(prediction) == _normalise(reference)


def score(completion: str, reference: str) -> dict[str, dict[str, Any]]:
    """{filter: {"extracted", "correct"}} as lm-eval would score the completion. reference:
    the full gold answer (a GSM8K solution ending "#### N", or the bare number)."""
    out = {}
    for name in FILTERS:
        got = extract(completion, name)
        out[name] = {"extracted": got, "correct": exact_match(got, reference)}
    return out


def train_shots(n_docs: int, data_path: str | None = None) -> list[list[tuple[str, str]]]:
    """(question, full answer) exemplars for each of the first n_docs GSM8K test problems."""
    from metamath.data import load

    train = load("gsm8k", "train", path=data_path)
    rows = [(p.question, p.solution or "") for p in train]
    return [[rows[j] for j in idx] for idx in fewshot_plan(n_docs, len(rows))]
