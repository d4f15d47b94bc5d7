"""AugmentConfig: what `metamath augment --config configs/augment/<recipe>.yaml` reads.

    cfg = load_config(AugmentConfig, "configs/augment/gsm8k.yaml", ["teacher.model=gpt-4o-mini"])

Defaults are the small, cheap end; the paper's recipes (configs/augment/{gsm8k,math}.yaml) set
the targets of Table 1 (method reference 1.0) and larger k.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from metamath.config import ConfigError
from metamath.records import TECHNIQUES, TYPES

Budget = Literal["fixed", "uniform", "prop2diff"]
GoldSource = Literal["given", "vote", "auto"]
Style = Literal["chat", "completion"]
GradeMode = Literal["strict", "flexible"]
# any backend of metamath.llm (openai | hf | vllm), or "scripted" for a dry run
TeacherBackend = Literal["openai", "hf", "vllm", "scripted"]
SeedKind = Literal["gsm8k", "math"]
AnswerFormat = Literal["plain", "gsm8k", "boxed"]

# The files of a run's work/ directory (append-only stage files, read back by later stages).
FILES = {
    "masks": "masks.jsonl",  # {seed}/m{j}: every masked question and its check
    "rephrase": "rephrasings.jsonl",  # {seed}/rephrase/r{i}: a rephrasing and its check
    "sv_rewrite": "statements.jsonl",  # {seed}/sv/m{j}/r{i}: an SV statement and its check
    "solve": "candidates.jsonl",  # {item}/s{k}: a sampled solution, graded (records.Candidate)
    "requests": "requests.jsonl",  # one line per LLM request (tokens, errors)
    "seed_rejects": "seeds_rejected.jsonl",  # seed rows the loader refused, with reasons
    "budget": "budget.jsonl",  # the budget rounds' plans (augment/budget.py)
    "votes": "votes.jsonl",  # {seed}/vote/s{i}: a vote sample's answer (augment/vote.py)
    "vote_decisions": "votes.json",  # the votes' decisions
    "cache": "llm_cache.sqlite",  # the teacher's request cache
}


@dataclass
class TeacherConfig:
    # any backend of metamath.llm.make_llm (openai | hf | vllm), or "scripted" for a dry run
    # (metamath.augment.scripted: no model; options p_correct, p_bad_rewrite)
    backend: TeacherBackend = "openai"
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
    kind: SeedKind | None = None  # gsm8k (numeric answers) | math (LaTeX); default from name
    question_field: str = "question"
    answer_field: str = "answer"
    answer_format: AnswerFormat = "plain"  # gsm8k (after ####) | boxed | plain
    # given: every row has its answer | vote: answers hidden or absent, gold by the teacher's
    # agreement (see VoteConfig) | auto: the given answer where a row has one, else a vote
    gold: GoldSource = "given"
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
    budget: Budget = "fixed"
    k: int = 4  # fixed: samples per question (n per request); uniform/prop2diff: kept samples
    max_samples: int = 64  # uniform/prop2diff: the most samples drawn for one question
    first_samples: int = 0  # uniform/prop2diff: samples per question in round 1 (0 = k)
    total_samples: int = 0  # uniform/prop2diff: the most samples for this technique (0 = no cap)
    k_rewrite: int = 2  # rephrase: rephrasings per seed; self_verification: rewrites per mask
    temperature: float = 0.7  # paper: 0.7 everywhere, as in self-consistency (reference 1.0)
    max_tokens: int = 1024
    max_masks: int = 0  # backward techniques: masked numbers used per question (0 = all)

    def check(self, name: str) -> None:
        _need(self.k >= 1 and self.k_rewrite >= 1, f"{name}.k and {name}.k_rewrite must be >= 1")
        _one_of(f"{name}.budget", self.budget, Budget)
        _need(
            self.budget == "fixed" or 1 <= (self.first_samples or self.k) <= self.max_samples,
            name,
            f"need 1 <= first_samples (0 = k) <= max_samples for budget {self.budget}; got "
            f"first_samples={self.first_samples}, k={self.k}, max_samples={self.max_samples}",
        )
        _need(self.total_samples >= 0, f"{name}.total_samples must be >= 0 (0 = no cap)")


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
    style: Style = "chat"  # chat (messages) | completion (raw few-shot prompt, base models)
    shots: int = 4  # few-shot exemplars per prompt (answer_aug: drawn from the seed set)
    grade_mode: GradeMode = "flexible"  # strict | flexible extraction when filtering
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

    def techniques(self) -> dict[str, TechniqueConfig]:
        """Each technique's settings, in pipeline order (records.TECHNIQUES)."""
        return {t: getattr(self, t) for t in TECHNIQUES}

    def check(self) -> None:
        """ConfigError naming the key, the value and the fix, for any setting out of range
        (values of Literal fields are checked here too: a config built in code skips YAML's)."""
        _one_of("style", self.style, Style)
        _one_of("teacher.backend", self.teacher.backend, TeacherBackend)
        _one_of("grade_mode", self.grade_mode, GradeMode)
        for t in self.targets:
            _need(t in TYPES, "targets", f"unknown type {t!r}; use one of {', '.join(TYPES)}")
        for name, tc in self.techniques().items():
            tc.check(name)
        for sc in self.seeds:
            _one_of(f"seeds[{sc.name}].gold", sc.gold, GoldSource)
        v = self.vote
        _need(
            v.samples >= 1 and v.min_votes >= 1 and 0.0 < v.min_agreement <= 1.0,
            "vote",
            "need samples >= 1, min_votes >= 1 and 0 < min_agreement <= 1; got "
            f"{v.samples}, {v.min_votes}, {v.min_agreement}",
        )
        m, near = self.minhash_threshold, self.near_dup_threshold
        _need(0.0 < m <= 1.0, f"minhash_threshold={m}", "use a Jaccard in (0, 1]")
        _need(
            0.0 < near <= 1.0,
            f"near_dup_threshold={near}",
            "use a Jaccard value in (0, 1]; 1.0 turns near-duplicate removal off",
        )
        _need(
            self.max_row_bytes >= 1 and self.max_question_chars >= 1,
            "max_row_bytes and max_question_chars must be >= 1",
        )
        _need(
            self.max_per_seed >= 0 and self.shots >= 0 and self.batch_size >= 1,
            "max_per_seed and shots must be >= 0, batch_size >= 1",
        )
        _need(bool(self.seeds), "seeds", "give at least one seed set (e.g. name: gsm8k)")
        parse_shard(self.shard)


def _need(ok: bool, what: str, fix: str = "") -> None:
    if not ok:
        raise ConfigError(f"{what}: {fix}" if fix else what, re.split(r"[=: ]", what)[0])


def _one_of(name: str, value: Any, allowed: Any) -> None:
    values = get_args(allowed)
    _need(value in values, f"{name}={value!r}", f"use one of {', '.join(values)}")


def parse_shard(shard: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in str(shard).split("/"))
    except ValueError:
        raise ConfigError(f"shard={shard!r}: write it as i/n, e.g. 0/4", "shard") from None
    if n < 1 or not 0 <= i < n:
        raise ConfigError(f"shard={shard!r}: need n >= 1 and 0 <= i < n", "shard")
    return i, n
