"""FOBAR (forward-backward reasoning): solve a masked question given the original's answer.

    for item_id, query, m in fobar_items(seed, max_masks=0):
        query  # "<masked question>\nIf we know the answer to the above question is 72, what is
               #  the value of unknown variable x?"   (the paper's data format, reference 1.5)

Every maskable number of the seed gives one item (backward.mask_question); the solver's reply
is kept when its "The value of x is N" equals the masked value. The demos are our own
backward solutions (prompts/augment_demos.py), chosen per dataset (the original used the MATH
demo file for GSM8K too, reference 1.5).
"""

from __future__ import annotations

from collections.abc import Iterator

from metamath.augment.backward import Masked, mask_question
from metamath.augment.seeds import Seed
from metamath.prompts.augment import fobar_question


def backward_masks(seed: Seed, max_masks: int = 0) -> list[Masked]:
    """The seed's masked questions, the first `max_masks` of them (0 = all)."""
    ms = mask_question(seed.question, seed.id, seed.kind)
    return ms[:max_masks] if max_masks else ms


def mask_index(m: Masked) -> str:
    return m.id.rsplit("/m", 1)[1]


def fobar_items(seed: Seed, max_masks: int = 0) -> Iterator[tuple[str, str, Masked]]:
    """(item id, FOBAR question, mask) for each masked number of the seed, one at a time (a
    question is only built when its item is reached)."""
    for m in backward_masks(seed, max_masks):
        yield f"{seed.id}/fobar/m{mask_index(m)}", fobar_question(m.question, seed.gold, m.var), m
