"""FOBAR (forward-backward reasoning): solve a masked question given the original's answer.

    for item_id, query, m in fobar_items(seed, max_masks=0):
        query  # "<masked question>\nIf we know the answer to the above question is 72, what is
               #  the value of unknown variable x?"   (the paper's data format, reference 1.5)

Every maskable number of the seed gives one item (backward.mask_question); the solver's reply
is kept when its "The value of x is N" equals the masked value. The demos are our own
backward solutions (prompts/augment_demos.py), chosen per dataset (the original used the MATH
demo file for GSM8K too, reference 1.5).

A masked question is checked as a question before anything is asked (mask_reason): it must not
still give the masked value away, as "x (a dozen) eggs" or "x, i.e. 12," do, and the FOBAR
question must be clean (augment/question_checks.py). SV questions are built on the same masks,
so a rejected mask is used by neither technique; mask_records() lists every mask with its
verdict for work/masks.jsonl, rejected.jsonl and the stage-1 yield in stats.json.
"""

from __future__ import annotations

from collections.abc import Iterator

from metamath.augment.backward import Masked, mask_question
from metamath.augment.leaks import restated
from metamath.augment.question_checks import check_question
from metamath.augment.seeds import Seed
from metamath.prompts.augment import fobar_question


def mask_reason(seed: Seed, m: Masked) -> str | None:
    """Why a masked question cannot be used (a FOBAR or SV question about it), or None."""
    if restated(m.question, m.start, m.var, m.value):
        return "leak"
    return check_question(
        fobar_question(m.question, seed.gold, m.var),
        fobar_question(seed.question, seed.gold, m.var),
        hidden=m.value,
        source=f"{m.question} {seed.gold}",
        conditions=False,  # the masked question keeps every word but one number by construction
        kind=seed.kind,
    )


def backward_masks(seed: Seed, max_masks: int = 0) -> list[Masked]:
    """The seed's usable masked questions, the first `max_masks` of them (0 = all)."""
    ms = [m for m in mask_question(seed.question, seed.id, seed.kind) if not mask_reason(seed, m)]
    return ms[:max_masks] if max_masks else ms


def mask_records(seed: Seed, max_masks: int = 0) -> list[dict]:
    """Every mask considered for the seed (up to `max_masks` usable ones) with its verdict."""
    out, used = [], 0
    for m in mask_question(seed.question, seed.id, seed.kind):
        if max_masks and used >= max_masks:
            break
        reason = mask_reason(seed, m)
        used += reason is None
        out.append(
            {
                "id": m.id,
                "seed_id": seed.id,
                "technique": "fobar",
                "stage": "mask",
                "text": m.question,
                "raw": None,
                "reason": reason,
                "value": m.value,
            }
        )
    return out


def mask_index(m: Masked) -> str:
    return m.id.rsplit("/m", 1)[1]


def fobar_items(seed: Seed, max_masks: int = 0) -> Iterator[tuple[str, str, Masked]]:
    """(item id, FOBAR question, mask) for each usable masked number of the seed, one at a time (a
    question is only built when its item is reached)."""
    for m in backward_masks(seed, max_masks):
        yield f"{seed.id}/fobar/m{mask_index(m)}", fobar_question(m.question, seed.gold, m.var), m
