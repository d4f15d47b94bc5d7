"""AnsAug: few-shot chain-of-thought solutions of the seed questions, demos from the train set.

    pool = exemplar_pool(seeds_of_one_kind, shots=4, seed=0)     # drawn once per run
    demos = exemplars_for(pool, shots=4, exclude=seed.id)        # never the question itself
    render("answer_aug", kind, question=q, exemplars=demos)      # prompts.augment

The paper used the Complexity-based CoT demos for GSM8K and 8 MATH problems (method reference
1.2); here the demos are train problems with their reference solutions rewritten into the reply
format we ask for, so no third-party prompt text is copied, and any seed set with solutions
brings its own demos. shots=0 gives zero-shot prompting with a chat model. Rephrased questions
are solved with the same prompt (their answer must equal the ORIGINAL gold).
"""

from __future__ import annotations

import hashlib

from metamath.augment.seeds import Seed
from metamath.data import gsm8k_reasoning


def exemplar_solution(seed: Seed) -> str | None:
    """A train solution in the reply format we ask for: steps, then "The answer is: a".

    GSM8K: the calculator annotations <<48/2=24>> are dropped and "#### a" becomes the answer
    line. MATH: the solution (with its \\boxed{}) plus the answer line. None if no solution."""
    sol = seed.problem.solution
    if not sol:
        return None
    if seed.kind == "gsm8k" and "####" in sol:
        sol = gsm8k_reasoning(sol)
    return f"{sol.strip()}\nThe answer is: {seed.gold}"


def exemplar_pool(pool: list[Seed], shots: int, seed: int) -> list[tuple[str, str, str]]:
    """shots + 1 (id, question, solution) demos drawn once per run (by `seed`).

    One fixed draw, so every prompt shares a prefix (prefix caching in vLLM/SGLang makes the
    repeated demos nearly free); the spare one replaces a demo that is the question itself."""
    if shots <= 0:
        return []
    ranked = sorted(
        pool, key=lambda s: hashlib.blake2b(f"{seed}/{s.id}".encode(), digest_size=8).digest()
    )
    out = []
    for s in ranked:
        sol = exemplar_solution(s)
        if len(s.question) > 600 or sol is None or len(sol) > 1200:
            continue  # short demos keep the prompt small
        out.append((s.id, s.question, sol))
        if len(out) == shots + 1:
            break
    return out


def exemplars_for(
    pool: list[tuple[str, str, str]], shots: int, exclude: str
) -> list[tuple[str, str]]:
    """The run's demos for one question: never the question being asked."""
    return [(q, sol) for sid, q, sol in pool if sid != exclude][:shots]
