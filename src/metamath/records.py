"""The record types that flow between stages.

Small frozen dataclasses with named fields; `meta` is only an escape hatch. Ids are
deterministic (source id + technique + index) so every stage resumes by skipping ids it has
already written, and sharded runs merge without duplicates. A record's to_dict() is its JSONL
row (fields in declaration order) and from_dict() reads one back (keys it does not know are
ignored, so a row with extra columns still reads).

    Problem     a seed or test problem with its gold answer (metamath.data)
    Candidate   one graded teacher sample of augment (work/candidates.jsonl)
    Example     one kept MetaMathQA row (metamathqa.jsonl; the columns of --export-hf)
    Grade       the grader's verdict on one completion (metamath.answers)
    Sample      one graded completion of an evaluation (samples.jsonl of `metamath eval`)
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, get_args

# The four MetaMath techniques (paper section 3), in pipeline order: the order of stats.json.
Technique = Literal["answer_aug", "rephrase", "fobar", "self_verification"]
TECHNIQUES: tuple[str, ...] = get_args(Technique)
# MetaMathQA `type` suffix of each technique, in the paper's order (Table 1, HF dataset card).
TYPE_SUFFIX = {
    "answer_aug": "AnsAug",
    "rephrase": "Rephrased",
    "self_verification": "SV",
    "fobar": "FOBAR",
}
# MetaMathQA `type` values: GSM_AnsAug ... MATH_FOBAR (the order rows are written in).
TYPES = tuple(f"{p}_{s}" for p in ("GSM", "MATH") for s in TYPE_SUFFIX.values())


def type_name(kind: str, technique: str) -> str:
    """MetaMathQA `type` of a row: GSM_* for GSM8K-like seeds, MATH_* for MATH-like ones."""
    return ("GSM_" if kind == "gsm8k" else "MATH_") + TYPE_SUFFIX[technique]


def technique_of(type_: str) -> str:
    """The technique of a MetaMathQA `type` ("GSM_SV" -> "self_verification")."""
    return _TECHNIQUE_OF[type_.split("_", 1)[1]]


_TECHNIQUE_OF = {s: t for t, s in TYPE_SUFFIX.items()}


class _Row:
    """to_dict / from_dict of a record: its fields in order (those in _OPTIONAL only when set).
    Shallow: a nested dict (Problem.meta, Candidate.mask) is the record's own, not a copy."""

    _OPTIONAL: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in field_names(type(self))}
        for k in self._OPTIONAL:
            if d[k] is None:
                del d[k]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        try:
            return cls(**d)
        except TypeError:  # a key the record does not have (a newer or a foreign row): left out
            names = set(field_names(cls))
            return cls(**{k: v for k, v in d.items() if k in names})


@functools.cache
def field_names(cls: type) -> tuple[str, ...]:
    """A record's field names, in order (cached: rows are made by the million)."""
    return tuple(f.name for f in dataclasses.fields(cls))


@dataclass(frozen=True)
class Problem(_Row):
    """One seed or test problem with its gold final answer (taken at load time)."""

    id: str
    question: str
    gold: str
    source: str  # "gsm8k", "math", "gsm8k_backward", or a user's dataset name
    solution: str | None = None  # full reference solution, where the dataset has one
    level: str | None = None  # MATH "Level 1".."Level 5"
    subject: str | None = None  # MATH type, e.g. "Algebra"
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Grade(_Row):
    """The grader's verdict on one completion.

    reason is one of: "correct", "mismatch", "no_answer", "timeout", "error", "too_long".
    """

    correct: bool
    extracted: str | None
    reason: str
    gold: str | None = None
    mode: str = "strict"  # which extraction produced `extracted`: "strict" or "flexible"


@dataclass(frozen=True, kw_only=True)
class Candidate(_Row):
    """One teacher sample for one question, graded (augment/generate.py writes it, assembly
    reads it). Its row in work/candidates.jsonl has these keys in this order; mask,
    rephrasing_id, raw_response and error only where set.

    A question (an "item") is a seed question, an accepted rephrasing, an SV or a FOBAR question;
    its samples are numbered: id = f"{item_id}/s{index}"."""

    id: str
    item_id: str
    seed_id: str
    technique: str  # one of TECHNIQUES
    type: str  # one of TYPES
    kind: str  # gsm8k (numeric answers) | math (LaTeX answers)
    query: str  # the question the teacher solved
    original_question: str  # the seed question it came from
    target: str  # the answer the sample must reach (the gold; backward: the masked value)
    task: str  # the grader's task (augment/filter.grade_task)
    prompt_version: str | None = None
    gold_source: str = "given"  # given | vote
    level: str | None = None  # MATH "Level n" of the seed
    mask: dict[str, Any] | None = None  # fobar, self_verification: the masked number
    rephrasing_id: str | None = None  # rephrase: the accepted rephrasing solved
    response: str  # the reply, cut after a run-on (filter.cut_run_on)
    raw_response: str | None = None  # the reply as sent, where the cut changed it
    finish_reason: str | None = None
    correct: bool
    reason: str  # "correct" or why the sample is rejected
    extracted: str | None = None  # the answer the grader read
    error: str | None = None  # the server's error, for a sample that came back without text

    _OPTIONAL: ClassVar[tuple[str, ...]] = ("mask", "rephrasing_id", "raw_response", "error")


@dataclass(frozen=True)
class Example(_Row):
    """One MetaMathQA row: the four released fields, then provenance (a row of metamathqa.jsonl
    and a column each of the exported Parquet dataset, in this order)."""

    query: str
    response: str
    type: str  # one of TYPES
    original_question: str
    id: str = ""  # deterministic: the Candidate's id, f"{item_id}/s{index}"
    seed_id: str = ""
    technique: str = ""
    target: str = ""
    prompt_version: str | None = None
    gold_source: str = "given"  # given | vote


@dataclass(frozen=True, kw_only=True)
class Sample(_Row):
    """One graded completion of an evaluation: a row of samples.jsonl (evaluate/run.py builds
    it; the reports, `metamath compare` and `metamath grade` read the rows). lm_eval and
    math_verify only where set."""

    eval_task: str  # the task's name: gsm8k, math, math500, gsm8k_backward or a user's
    task: str  # its grader: gsm8k (numeric answers) | math (LaTeX answers)
    problem_id: str
    prompt: Any  # what was sent (chat: the messages, role-tagged)
    gold: str
    subject: str | None = None  # MATH
    level: str | None = None  # MATH
    id: str  # the request's id, with "#k" for the k-th of n samples
    sample: int
    completion: str
    finish_reason: str | None = None
    error: str | None = None  # a failed request or a sample that came back without text
    cached: bool = False
    lm_eval: dict[str, Any] | None = None  # prompt style lm_eval: lm-eval's own two scores
    strict: dict[str, Any]  # {"correct", "extracted", "reason"} of the strict grader
    flexible: dict[str, Any]  # the same for the flexible grader
    mode: str  # the primary grade mode, whose verdict the next three fields repeat
    extracted: str | None
    correct: bool
    reason: str
    math_verify: dict[str, Any] | None = None  # --audit: math-verify's verdict on the same pair

    _OPTIONAL: ClassVar[tuple[str, ...]] = ("lm_eval", "math_verify")
