"""Augmentation prompts: one template per technique x dataset, versioned, rendered by render().

    r = render("fobar", "gsm8k", question=q_with_suffix)
    Request(id=..., messages=r.messages)       # style="chat" (default)
    Request(id=..., prompt=r.prompt, stop=r.stop)   # style="completion" (base models)

Techniques: "answer_aug" (solve a question forward; few-shot exemplars are passed in, drawn from
the seed train set), "rephrase" (rewrite the question), "fobar" (solve a masked question given
the answer), "sv_rewrite" (turn the question sentence plus its answer into a statement),
"self_verification" (solve a masked question whose answer is stated). The wording and the demos
are our own; the layout follows the paper (method reference 1.2-1.6): demos of "Question: ..."
then the worked reply, and the query block last. Bump VERSION[technique] whenever a template
changes: it is recorded with every candidate (prompt_version) and, as the prompt text changes,
the LLM cache never serves an old prompt's samples for a new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from metamath.prompts.augment_demos import DEMOS, SYSTEM
from metamath.prompts.styles import AUGMENT_STYLES, style_error

VERSION = {"answer_aug": 2, "rephrase": 2, "fobar": 2, "sv_rewrite": 2, "self_verification": 2}
TECHNIQUES = tuple(VERSION)
DATASETS = ("gsm8k", "math")
# Where each kind of reply is introduced (the completion style stops before the next "Question:").
_REPLY = {
    "answer_aug": "Answer:",
    "fobar": "Answer:",
    "self_verification": "Answer:",
    "rephrase": "Rephrased question:",
    "sv_rewrite": "Statement:",
}


# Chat replies stop where a model runs on into a new problem or turn (at most 4: the OpenAI API's
# limit). A reply that still runs on is cut by augment.filter.cut_run_on / the rewrite checks.
_SOLVE_STOP = ("\nQuestion:", "\nProblem:", "\nUser:", "\nQ:")
CHAT_STOP = {
    "answer_aug": _SOLVE_STOP,
    "fobar": _SOLVE_STOP,
    "self_verification": _SOLVE_STOP,
    "rephrase": ("\nQuestion:", "\nAnswer:", "\nRephrased question:", "\nUser:"),
    "sv_rewrite": ("\nQuestion:", "\nAnswer:", "\nStatement:", "\nUser:"),
}


@dataclass(frozen=True)
class Rendered:
    messages: tuple[dict[str, str], ...] | None
    prompt: str | None
    stop: tuple[str, ...]
    version: str  # e.g. "fobar/gsm8k/v1"


def fobar_question(masked: str, answer: str, var: str = "x") -> str:
    """The paper's FOBAR format (method reference 1.5, [data] form): masked question, newline,
    then the given answer and the question for the unknown variable."""
    return (
        f"{masked}\nIf we know the answer to the above question is {answer}, "
        f"what is the value of unknown variable {var}?"
    )


def sv_question(base: str, statement: str, var: str = "x") -> str:
    """The SV format (reference 1.6): context, the declarative statement, then the ask."""
    body = f"{base} {statement}".strip()
    return f"{body} What is the value of unknown variable {var}?"


def _block(technique: str, question: str, reply: str | None, answer: str | None) -> str:
    head = f"Question: {question}"
    if technique == "sv_rewrite":
        head += f"\nAnswer: {answer}"
    tail = f" {reply}" if reply is not None else ""
    return f"{head}\n{_REPLY[technique]}{tail}"


def render(
    technique: str,
    dataset: str,
    *,
    question: str,
    answer: str | None = None,
    exemplars: Sequence[tuple[str, str]] | None = None,
    style: str = "chat",
    shots: int | None = None,
) -> Rendered:
    """Render one augmentation prompt.

    question: the query (for fobar/self_verification, the full backward question). answer: the
    gold shown to sv_rewrite. exemplars: (question, reply) demos; default the built-in demos of
    the technique (answer_aug has none built in: pass exemplars from the train set, or none for
    zero-shot with a chat model). shots: use at most this many demos.
    """
    if technique not in VERSION:
        raise ValueError(f"technique={technique!r}: use one of {', '.join(TECHNIQUES)}")
    if dataset not in DATASETS:
        raise ValueError(
            f"dataset={dataset!r}: use one of {', '.join(DATASETS)} "
            "(a user's seed set picks the one its answers look like)"
        )
    if style not in AUGMENT_STYLES:
        raise style_error(style, AUGMENT_STYLES, "style")
    if technique == "sv_rewrite" and answer is None:
        raise ValueError("sv_rewrite needs answer= (the gold to put into the statement)")
    demos = list(exemplars) if exemplars is not None else list(DEMOS[technique][dataset])
    if shots is not None:
        demos = demos[:shots]
    if style == "completion" and not demos:
        raise ValueError(
            f"{technique}: the completion style needs at least one demo "
            "(a base model cannot follow a zero-shot instruction reliably)"
        )
    system = SYSTEM[technique][dataset]
    parts = []
    for d in demos:
        if technique == "sv_rewrite":
            q, a, reply = d  # type: ignore[misc]
            parts.append(_block(technique, q, reply, a))
        else:
            parts.append(_block(technique, d[0], d[1], None))
    query = _block(technique, question, None, answer)
    version = f"{technique}/{dataset}/v{VERSION[technique]}"
    if style == "chat":
        user = "\n\n".join([*parts, query]) if parts else query
        if parts:
            user = "Worked examples:\n\n" + user
        msgs = ({"role": "system", "content": system}, {"role": "user", "content": user})
        return Rendered(messages=msgs, prompt=None, stop=CHAT_STOP[technique], version=version)
    text = system + "\n\n" + "\n\n".join([*parts, query])
    return Rendered(messages=None, prompt=text, stop=("\nQuestion:",), version=version)
