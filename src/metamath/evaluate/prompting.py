"""Eval prompt styles -> llm Requests.

- "alpaca": MetaMath's zero-shot Alpaca prompt, from metamath.prompts.alpaca (the training
  template); style "original_eval" ends "### Response: Let's think step by step." as the paper.
- "chat": the model's own chat template (the backend applies it to `messages`), with an
  instruction to box the final answer, the usual convention for instruction-tuned models.
- "fewshot": 8-shot GSM8K (Wei et al.) or 4-shot Minerva-style MATH, with our own exemplars
  (metamath.evaluate.fewshot), for base models that never saw MetaMathQA.
- "lm_eval": lm-evaluation-harness's gsm8k task (5-shot from the train split, its stops and
  its two regex scores beside ours; metamath.evaluate.lm_eval_gsm8k), to check against lm-eval.
"""

from __future__ import annotations

from typing import Any

from metamath.evaluate import fewshot, lm_eval_gsm8k
from metamath.llm.base import Request
from metamath.prompts.alpaca import render
from metamath.prompts.styles import EVAL_STYLES, style_error
from metamath.records import Problem
from metamath.tasks import EvalTask

# eval_gsm8k.py / eval_math.py stop list (method reference §4.1). The bare words ("Question",
# "Response", "Instruction", "USER", "ASSISTANT") also cut legitimate text ("Question 2 asks...");
# they are kept only by configs/eval/metamath_paper.yaml for exact reproduction. Our default
# keeps the colon forms, which only end a run-on into a new turn.
PAPER_STOP = (
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
DEFAULT_STOP = {
    "alpaca": ("Question:", "USER:", "ASSISTANT:", "Instruction:", "Response:"),
    "chat": (),
    "fewshot": ("\n\nQuestion:", "\n\nProblem:", "Question:", "Problem:"),
    "lm_eval": lm_eval_gsm8k.STOP,
}
CHAT_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


def render_prompt(
    problem: Problem,
    task: EvalTask,
    style: str,
    *,
    alpaca_style: str = "metamath",
    fewshot_k: int | None = None,
    system_prompt: str | None = None,
    shots: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """{"prompt": str} or {"messages": [...]} for one problem. shots: the lm_eval style's
    exemplars for this problem (lm_eval_gsm8k.train_shots)."""
    if style == "alpaca":
        return {"prompt": render(problem.question, style=alpaca_style)}
    if style == "fewshot":
        if task.fewshot == "math":
            return {"prompt": fewshot.math_block(problem.question, fewshot_k or 4)}
        return {"prompt": fewshot.gsm8k_block(problem.question, fewshot_k or 8)}
    if style == "lm_eval":
        return {"prompt": lm_eval_gsm8k.prompt(problem.question, list(shots or []))}
    if style == "chat":
        msgs = [{"role": "system", "content": system_prompt}] if system_prompt else []
        msgs.append({"role": "user", "content": f"{problem.question}\n{CHAT_INSTRUCTION}"})
        return {"messages": msgs}
    raise style_error(style, EVAL_STYLES, "prompt_style")


def request_id(task: str, problem_id: str) -> str:
    """ "<task>/<problem id>", without repeating a task name the problem id already starts with
    ("gsm8k/test/1", not "gsm8k/gsm8k/test/1")."""
    return problem_id if problem_id.startswith(f"{task}/") else f"{task}/{problem_id}"


def build_request(
    problem: Problem,
    task: EvalTask,
    *,
    style: str,
    n: int,
    temperature: float,
    top_p: float,
    max_tokens: int,
    stop: tuple[str, ...] | None,
    seed: int | None,
    **prompt_opts: Any,
) -> Request:
    body = render_prompt(problem, task, style, **prompt_opts)
    messages = tuple(body["messages"]) if "messages" in body else None
    return Request(
        id=request_id(task.name, problem.id),
        prompt=body.get("prompt"),
        messages=messages,
        n=n,
        temperature=temperature,
        top_p=top_p,
        max_tokens=max_tokens,
        stop=tuple(DEFAULT_STOP[style] if stop is None else stop),
        seed=seed,
    )


def prompt_text(req: Request) -> str:
    """What samples.jsonl shows as the prompt (chat: the messages, role-tagged)."""
    if req.prompt is not None:
        return req.prompt
    return "\n".join(f"[{m['role']}] {m['content']}" for m in req.messages or ())
