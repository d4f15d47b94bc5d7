"""The Alpaca prompt MetaMath trains and evaluates with: ONE definition for both stages.

Styles (source: meta-math/MetaMath train_math.py and eval_gsm8k.py; see the method reference §3-4):

- "metamath" (default): the whole query in the no-input template, prompt ends "### Response:\\n",
  the response follows. Training and evaluation use the identical prompt text.
- "original_train": the released trainer's quirks, for exact reproduction: a multi-line query is
  split at its first newline into instruction and "### Input:"; the response is appended
  directly after "### Response:" with no space.
- "original_eval": the released evaluator's prompt: no-input template, ending
  "### Response: Let's think step by step."

    prompt = render(query)                       # default style
    prompt = render(query, style="original_eval")
"""

from __future__ import annotations

from metamath.prompts.styles import ALPACA_STYLES, style_error

HEADER = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request."
)
HEADER_INPUT = (
    "Below is an instruction that describes a task, paired with an input that "
    "provides further context. Write a response that appropriately completes "
    "the request."
)
NO_INPUT = HEADER + "\n\n### Instruction:\n{instruction}\n\n### Response:"
WITH_INPUT = (
    HEADER_INPUT + "\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
)
COT_TRIGGER = "Let's think step by step."


def render(query: str, style: str = "metamath") -> str:
    """The prompt text for a query; the model's response is the continuation of this string."""
    if style == "metamath":
        return NO_INPUT.format(instruction=query) + "\n"
    if style == "original_train":
        if "\n" in query:
            first, rest = query.split("\n", 1)
            return WITH_INPUT.format(instruction=first, input=rest)
        return NO_INPUT.format(instruction=query)
    if style == "original_eval":
        return NO_INPUT.format(instruction=query) + " " + COT_TRIGGER
    raise style_error(style, ALPACA_STYLES, "prompt style")
