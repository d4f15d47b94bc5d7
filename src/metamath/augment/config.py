"""AugmentConfig: what `metamath augment --config configs/augment/<recipe>.yaml` reads.

    cfg = load_config(AugmentConfig, "configs/augment/gsm8k.yaml", ["teacher.model=gpt-4o-mini"])

Defaults are the small, cheap end; the paper's recipes (configs/augment/{gsm8k,math}.yaml) set
the targets of Table 1 (method reference 1.0) and larger k.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Paper Table 1 (method reference 1.0): rows kept per type in the released MetaMathQA.
PAPER_TARGETS = {
    "GSM_AnsAug": 80_000,
    "GSM_Rephrased": 80_000,
    "GSM_SV": 40_000,
    "GSM_FOBAR": 40_000,
    "MATH_AnsAug": 75_000,
    "MATH_Rephrased": 50_000,
    "MATH_SV": 15_000,
    "MATH_FOBAR": 15_000,
}


@dataclass
class TeacherConfig:
    # any backend of metamath.llm.make_llm (openai | hf | vllm), or "scripted" for a dry run
    # (metamath.augment.scripted: no model; options p_correct, p_bad_rewrite)
    backend: str = "openai"
    model: str = ""
    options: dict[str, Any] = field(default_factory=dict)  # passed to make_llm (base_url, ...)
    cache: bool = True  # SQLite cache in the run dir: a resume costs no new requests
    price_prompt_per_1m: float = 0.0  # USD per million tokens, for stats.json's cost
    price_completion_per_1m: float = 0.0


@dataclass
class SeedConfig:
    """One seed set: a named dataset (gsm8k, math) or any JSONL/JSON/Parquet file."""

    name: str = "gsm8k"  # gsm8k | math | a label for `path`
    split: str = "train"
    path: str | None = None  # a user's file; then the field names below apply
    kind: str | None = None  # gsm8k (numeric answers) | math (LaTeX); default from name
    question_field: str = "question"
    answer_field: str = "answer"
    answer_format: str = "plain"  # gsm8k (after ####) | boxed | plain
    # given: every row has its answer | vote: answers hidden or absent, gold by the teacher's
    # agreement (see VoteConfig) | auto: the given answer where a row has one, else a vote
    gold: str = "given"
    id_field: str | None = None
    solution_field: str | None = None
    limit: int | None = None


@dataclass
class TechniqueConfig:
    enabled: bool = True
    # fixed: k samples per question (the paper) | uniform: sample in rounds until a question has
    # k kept samples or max_samples were drawn | prop2diff: kept samples proportional to the
    # question's fail rate, measured on the first round, k for a question never solved
    # (DART-Math, Tong et al. 2024; see augment/budget.py)
    budget: str = "fixed"
    k: int = 4  # fixed: samples per question (n per request); uniform/prop2diff: kept samples
    max_samples: int = 64  # uniform/prop2diff: the most samples drawn for one question
    first_samples: int = 0  # uniform/prop2diff: samples per question in round 1 (0 = k)
    total_samples: int = 0  # uniform/prop2diff: the most samples for this technique (0 = no cap)
    k_rewrite: int = 2  # rephrase: rephrasings per seed; self_verification: rewrites per mask
    temperature: float = 0.7  # paper: 0.7 everywhere, as in self-consistency (reference 1.0)
    max_tokens: int = 1024
    max_masks: int = 0  # backward techniques: masked numbers used per question (0 = all)


@dataclass
class VoteConfig:
    """Gold for seeds without an answer (seeds[].gold: vote | auto): the majority answer of the
    teacher's own AnsAug samples, under the grader's equivalence (metamath.answers.is_equiv)."""

    samples: int = 8  # samples drawn per question to vote (they are AnsAug's first samples too)
    min_votes: int = 3  # the winning answer needs at least this many samples
    min_agreement: float = 0.5  # ... and at least this share of all samples drawn


@dataclass
class AugmentConfig:
    seeds: list[SeedConfig] = field(default_factory=lambda: [SeedConfig()])
    teacher: TeacherConfig = field(default_factory=TeacherConfig)
    answer_aug: TechniqueConfig = field(default_factory=TechniqueConfig)
    rephrase: TechniqueConfig = field(default_factory=TechniqueConfig)
    fobar: TechniqueConfig = field(default_factory=TechniqueConfig)
    self_verification: TechniqueConfig = field(default_factory=TechniqueConfig)
    style: str = "chat"  # chat (messages) | completion (raw few-shot prompt, base models)
    shots: int = 4  # few-shot exemplars per prompt (answer_aug: drawn from the seed set)
    grade_mode: str = "flexible"  # strict | flexible extraction when filtering
    grade_timeout: float = 2.0
    targets: dict[str, int] = field(default_factory=dict)  # type -> rows; absent = keep all
    max_per_seed: int = 0  # cap of rows per (seed question, type); 0 = no cap
    near_dup_threshold: float = 0.9  # estimated Jaccard of response 3-grams; 1.0 = exact only
    decontaminate: bool = True
    decontam_ngram: int = 10  # word n-gram overlap with the test sets (DeepSeekMath uses 10)
    # built-in test sets by name (gsm8k, math, math500, gsm8k_backward) or any JSONL/JSON/Parquet
    # file of test problems (its question/problem/query field)
    decontam_sets: list[str] = field(default_factory=lambda: ["gsm8k", "math"])
    # paraphrase-level check beside the n-grams: character-shingle MinHash/LSH, then the exact
    # Jaccard of the shingles, plus the test item's numbers (augment/minhash.py)
    decontam_minhash: bool = True
    minhash_threshold: float = 0.5
    vote: VoteConfig = field(default_factory=VoteConfig)
    shard: str = "0/1"  # i/n: this run handles the seeds with index % n == i
    batch_size: int = 64  # requests handed to the LLM per call (results are written as they come)
    seed: int = 0  # exemplar choice and subsampling
    examples_in_card: int = 2  # examples per type shown in DATA_CARD.md
    # Sizes bounded before any work: a seed row (JSONL line) larger than max_row_bytes or a
    # question longer than max_question_chars is a recorded rejection (rejected.jsonl), never
    # sent to the teacher. GSM8K and MATH questions are at most ~5,000 characters.
    max_row_bytes: int = 1 << 20
    max_question_chars: int = 20_000


BUDGETS = ("fixed", "uniform", "prop2diff")
TECHNIQUE_FIELDS = ("answer_aug", "rephrase", "fobar", "self_verification")
TYPE_SUFFIX = {
    "answer_aug": "AnsAug",
    "rephrase": "Rephrased",
    "self_verification": "SV",
    "fobar": "FOBAR",
}


def type_name(kind: str, technique: str) -> str:
    """MetaMathQA `type` of a row: GSM_* for GSM8K-like seeds, MATH_* for MATH-like ones."""
    return ("GSM_" if kind == "gsm8k" else "MATH_") + TYPE_SUFFIX[technique]


def parse_shard(shard: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in str(shard).split("/"))
    except ValueError:
        raise ValueError(f"shard={shard!r}: write it as i/n, e.g. 0/4") from None
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"shard={shard!r}: need n >= 1 and 0 <= i < n")
    return i, n


def validate(cfg: AugmentConfig) -> None:
    from metamath.records import TYPES

    if cfg.style not in ("chat", "completion"):
        raise ValueError(f"style={cfg.style!r}: use chat or completion")
    if cfg.grade_mode not in ("strict", "flexible"):
        raise ValueError(f"grade_mode={cfg.grade_mode!r}: use strict or flexible")
    for t in cfg.targets:
        if t not in TYPES:
            raise ValueError(f"targets: unknown type {t!r}; use one of {', '.join(TYPES)}")
    for name in TECHNIQUE_FIELDS:
        tc = getattr(cfg, name)
        if tc.k < 1 or tc.k_rewrite < 1:
            raise ValueError(f"{name}.k and {name}.k_rewrite must be >= 1")
        if tc.budget not in BUDGETS:
            raise ValueError(f"{name}.budget={tc.budget!r}: use one of {', '.join(BUDGETS)}")
        if tc.budget != "fixed" and not 1 <= (tc.first_samples or tc.k) <= tc.max_samples:
            raise ValueError(
                f"{name}: need 1 <= first_samples (0 = k) <= max_samples for budget "
                f"{tc.budget}; got first_samples={tc.first_samples}, k={tc.k}, "
                f"max_samples={tc.max_samples}"
            )
        if tc.total_samples < 0:
            raise ValueError(f"{name}.total_samples must be >= 0 (0 = no cap)")
    for sc in cfg.seeds:
        if sc.gold not in ("given", "vote", "auto"):
            raise ValueError(f"seeds[{sc.name}].gold={sc.gold!r}: use given, vote or auto")
    v = cfg.vote
    if v.samples < 1 or v.min_votes < 1 or not 0.0 < v.min_agreement <= 1.0:
        raise ValueError(
            "vote: need samples >= 1, min_votes >= 1 and 0 < min_agreement <= 1; got "
            f"{v.samples}, {v.min_votes}, {v.min_agreement}"
        )
    if not 0.0 < cfg.minhash_threshold <= 1.0:
        raise ValueError(f"minhash_threshold={cfg.minhash_threshold}: use a Jaccard in (0, 1]")
    if not 0.0 < cfg.near_dup_threshold <= 1.0:
        raise ValueError(
            f"near_dup_threshold={cfg.near_dup_threshold}: use a Jaccard value in "
            "(0, 1]; 1.0 turns near-duplicate removal off"
        )
    if cfg.max_row_bytes < 1 or cfg.max_question_chars < 1:
        raise ValueError("max_row_bytes and max_question_chars must be >= 1")
    if cfg.max_per_seed < 0 or cfg.shots < 0 or cfg.batch_size < 1:
        raise ValueError("max_per_seed and shots must be >= 0, batch_size >= 1")
    if not cfg.seeds:
        raise ValueError("seeds: give at least one seed set (e.g. name: gsm8k)")
    parse_shard(cfg.shard)
