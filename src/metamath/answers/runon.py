"""Run-ons: after answering, models often go on with an invented new turn.

    "... The answer is 18.\\n\\nQuestion: Tom has 3 apples ... The answer is 5."   -> answer 18
    '{"answer": "600"}\\n\\n## Question: ... e.g. "answer": "42"'               -> answer 600

Base models and fine-tunes without a stop sequence continue the few-shot pattern they were
prompted with (lm-eval's "Question: ... Answer: ...", Minerva's "Problem: ... Solution: ...",
"Q: ... A: ..."), chat models write the next user turn ("Human:", "User:", "### Instruction",
"<|im_start|>user", "<|user|>") or an end-of-turn token and more text. The invented turn holds
another question and often another answer marker, which is not the answer to the asked question.

The rule, used by both modes: the reply ends at the first invented turn that comes AFTER an
answer was given (a marker that states an answer, or a non-empty \\boxed{}); a reply that
restates the question first ("Question: ... Answer: ...") is therefore never cut before its
answer. An invented turn is a line that opens with a turn word and a colon ("Question:", "Q:",
"Problem 2:", "Human:", "User:", "Instruction:"), a markdown heading of such a word ("## Question",
"### Instruction"), or a chat-template token anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_WORDS = r"question|problem|q|instruction|human|user|exercise"
_TURN = re.compile(
    r"<\|(?:im_start|im_end|user|endoftext|eot_id|start_header_id|end)\|>|</s>|\[INST\]"
    r"|<start_of_turn>|<end_of_turn>"
    rf"|^[ \t>]*(?:#{{1,6}}[ \t]*(?:\*\*)?(?:{_WORDS})\b[^\n]{{0,40}}$"
    rf"|(?:\*\*)?(?:{_WORDS})(?:[ \t]+\d+)?(?:\*\*)?[ \t]*[:：])",
    re.IGNORECASE | re.MULTILINE,
)
# Cheap pre-filter: every turn contains one of these (searched in the lowercased text).
_TURN_KEYS = re.compile(rf"(?:{_WORDS})\b|<\||</s>|\[inst\]|_of_turn>")
MAX_TURNS = 8  # turns tried after the first answer (bounds the work on adversarial text)


def before_run_on(text: str, answered: Callable[[str], bool], first: int) -> str:
    """text up to the first invented turn after an answer; `first` is where the earliest
    possible answer starts (a marker's key word or a box), `answered(prefix)` says whether the
    prefix states an answer."""
    if first < 0:
        return text
    low = text.lower()
    tries, pos = 0, first
    while tries < MAX_TURNS:
        key = _TURN_KEYS.search(low, pos)
        if key is None:
            return text
        line = text.rfind("\n", 0, key.start()) + 1  # turn words open their line
        m = _TURN.match(text, key.start()) or _TURN.match(text, line)
        pos = key.end()
        if m is None or m.start() <= first:
            continue
        tries += 1
        if answered(text[: m.start()]):
            return text[: m.start()]
    return text
