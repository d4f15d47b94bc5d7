"""The record types that flow between stages.

Small frozen dataclasses with named fields; `meta` is only an escape hatch. Ids are
deterministic (source id + technique + index) so every stage resumes by skipping ids it has
already written, and sharded runs merge without duplicates.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

# MetaMathQA `type` values (paper Table 1, HF dataset card).
TYPES = (
    "GSM_AnsAug",
    "GSM_Rephrased",
    "GSM_SV",
    "GSM_FOBAR",
    "MATH_AnsAug",
    "MATH_Rephrased",
    "MATH_SV",
    "MATH_FOBAR",
)
TECHNIQUES = ("answer_aug", "rephrase", "self_verification", "fobar")


@dataclass(frozen=True)
class Problem:
    """One seed or test problem with its gold final answer (taken at load time)."""

    id: str
    question: str
    gold: str
    source: str  # "gsm8k", "math", "gsm8k_backward", or a user's dataset name
    solution: str | None = None  # full reference solution, where the dataset has one
    level: str | None = None  # MATH "Level 1".."Level 5"
    subject: str | None = None  # MATH type, e.g. "Algebra"
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Problem:
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d})


@dataclass(frozen=True)
class Grade:
    """The grader's verdict on one completion.

    reason is one of: "correct", "mismatch", "no_answer", "timeout", "error", "too_long".
    """

    correct: bool
    extracted: str | None
    reason: str
    gold: str | None = None
    mode: str = "strict"  # which extraction produced `extracted`: "strict" or "flexible"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Example:
    """One MetaMathQA row: the four released fields plus provenance."""

    id: str  # deterministic: f"{source_id}/{technique}/{index}"
    query: str
    response: str
    type: str  # one of TYPES
    original_question: str
    source_id: str = ""
    technique: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Example:
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d})
