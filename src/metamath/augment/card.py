"""The data card of an augmentation run: DATA_CARD.md and a self-contained DATA_CARD.html, both
rendered from one metamath.report.Page built from stats.json's content.

The card opens with the key numbers (rows kept, yield, requests, tokens, cost), then one
section per concern, each built by one function in `sections()`: a new section is one more
function there. Every count carries its meaning (what a sample is, what each rejection reason
says), and examples show both kept rows and rejected samples with their reasons.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from metamath.augment.config import AugmentConfig
from metamath.augment.coverage import card_section
from metamath.config import to_dict
from metamath.records import Example
from metamath.report import (
    Bullets,
    Code,
    Notes,
    Page,
    Section,
    Stat,
    Table,
    Text,
    code,
    counts,
    num,
    pct,
    plural,
    write_page,
)

# What each rejection reason means (solving: metamath.augment.filter; assembly: assemble;
# stage 1: rephrase.check_rephrasing and self_verification's statement checks).
REASONS = {
    "mismatch": "the teacher's final answer differs from the gold answer",
    "no_answer": "no final answer could be read from the reply",
    "truncated": "the reply hit max_tokens, so its end cannot be trusted",
    "no_reasoning": "an answer line with no reasoning before it",
    "timeout": "the symbolic equivalence check ran out of time",
    "too_long": "too long to check (an answer), or a rewrite far longer than its question",
    "error": "the request failed after retries",
    "duplicate": "the same (query, response) was already kept",
    "near_duplicate": "a near copy of another response to the same query",
    "contaminated": "the query shares a long n-gram with a test-set question",
    "seed_cap": "over max_per_seed rows for this question and type",
    "over_target": "over the recipe's target for this type (a seeded subsample was kept)",
    "empty": "the rewrite was empty",
    "copy": "the rephrasing repeats the question",
    "numbers_lost": "the rephrasing dropped a number of the question",
    "numbers_changed": "the rephrasing introduced a number the question does not have",
    "answer_phrase": "the statement still says 'the answer is'",
    "answer_missing": "the statement does not contain the answer",
    "still_question": "the statement is still a question",
    "variable_lost": "the masked number's variable disappeared",
    "unchanged": "the rewrite did not change the question",
}


def _seeds(cfg: AugmentConfig) -> str:
    return "; ".join(
        f"{s.name}:{s.split}"
        + (f" {code(s.path)}" if s.path else "")
        + (f" (first {s.limit})" if s.limit else "")
        for s in cfg.seeds
    )


def key_numbers(stats: dict[str, Any], cfg: AugmentConfig | None = None) -> list[Stat]:
    tech = stats["techniques"].values()
    samples = sum(v["samples"] for v in tech)
    kept = sum(v["kept"] for v in tech)
    failed = sum(v["request_errors"] for v in tech)
    prompt = sum(v["tokens"]["prompt"] for v in tech)
    completion = sum(v["tokens"]["completion"] for v in tech)
    cost = sum(v["cost_usd"] for v in tech)
    return [
        Stat("rows kept", num(stats["rows"]), "in metamathqa.jsonl"),
        Stat(
            "yield",
            pct(kept / samples) if samples else "n/a",
            f"{num(kept)} of {plural(samples, 'sampled answer')} kept",
        ),
        Stat(
            "teacher requests",
            num(sum(v["requests"] for v in tech)),
            f"{plural(failed, 'failed request')}; tokens {num(prompt)} prompt + "
            f"{num(completion)} completion",
        ),
        Stat("cost", f"${cost:,.2f}", "at the teacher's configured prices")
        if cfg is None or cfg.teacher.price_prompt_per_1m or cfg.teacher.price_completion_per_1m
        else Stat("cost", "not priced", "set teacher.price_prompt_per_1m and _completion_per_1m"),
    ]


def technique_section(stats: dict[str, Any]) -> Section:
    priced = any(v["cost_usd"] for v in stats["techniques"].values())  # else no cost column
    rows = []
    for t, v in stats["techniques"].items():
        failed = f" ({v['request_errors']} failed)" if v["request_errors"] else ""
        rows.append(
            [
                t if v.get("enabled", True) else f"{t} (off)",
                f"{v['requests']}{failed}",
                v["samples"],
                v["kept"],
                pct(v["yield"]),
                counts(v["rejected"], "-"),
                f"{num(v['tokens']['prompt'])} / {num(v['tokens']['completion'])}",
            ]
            + ([f"{v['cost_usd']:.2f}"] if priced else [])
        )
    head = ["technique", "requests", "samples", "kept", "yield", "rejected (reason count)"]
    head += ["tokens prompt / completion"] + (["cost USD"] if priced else [])
    blocks: list[Any] = [
        Table(
            head,
            rows,
            note="A sample is one answer of the teacher (a request asks for several); yield = "
            "kept / samples. Every sample is either kept or rejected with one reason.",
        )
    ]
    if stats["zero_yield"]:
        blocks.append(
            Text(
                f"**Zero yield** (samples drawn, none kept): {', '.join(stats['zero_yield'])}. "
                "A random or weak teacher gives this; check its answers below before scaling up."
            )
        )
    for kind, m in stats.get("masking", {}).items():
        blocks.append(
            Text(
                f"Masking ({kind} seeds of this shard): {m['masks']} backward-question "
                f"candidates from {m['with_masks']} of {m['questions']} questions (every "
                "maskable number; each round-trips to the original question)."
            )
        )
    seen = sorted({r for v in stats["techniques"].values() for r in v["rejected"]})
    if seen:
        blocks.append(Notes([(r, REASONS.get(r, "see rejected.jsonl")) for r in seen]))
    return Section("Per technique", blocks)


def stage1_section(stats: dict[str, Any]) -> Section:
    names = {"rephrase": "rephrasings", "sv_rewrite": "SV statements"}
    rows = [
        [names.get(k, k), v["generated"], v["accepted"], counts(v["rejected"], "-")]
        for k, v in stats["stage1"].items()
    ]
    seen = sorted({r for v in stats["stage1"].values() for r in v["rejected"]})
    blocks: list[Any] = [
        Table(
            ["rewrite", "generated", "accepted", "rejected (reason count)"],
            rows,
            note="Rephrasings and Self-Verification statements are checked before they are "
            "solved; only accepted ones become questions.",
        )
    ]
    if seen:
        blocks.append(Notes([(r, REASONS.get(r, "see rejected.jsonl")) for r in seen]))
    return Section("Rewrites checked before solving", blocks)


def types_section(stats: dict[str, Any]) -> Section:
    if not stats["types"]:
        return Section(
            "Per type",
            [Text("No sample reached assembly: every one was rejected (see Per technique).")],
        )
    rows = [
        [t, v["available"], num(v["target"]) if v["target"] else "all", v["kept"], v["shortfall"]]
        for t, v in stats["types"].items()
    ]
    return Section(
        "Per type",
        [
            Table(
                ["type", "available", "target", "kept", "shortfall"],
                rows,
                note="available = correct rows left after dedup and decontamination; target = "
                "the recipe's rows for the type (all: no target); shortfall = target - kept.",
            )
        ],
    )


def dedup_section(stats: dict[str, Any]) -> Section:
    d = stats["decontamination"]
    indexed = ", ".join(f"{k} test ({num(n)} questions)" for k, n in d["indexed"].items())
    items = [
        f"exact duplicates removed: {num(stats['dedup']['exact'])}; near-duplicates: "
        f"{num(stats['dedup']['near'])}",
    ]
    if d["enabled"]:
        removed = f"{plural(d['removed'], 'row')} removed"
        if d["removed_by_test_set"]:
            removed += f" ({counts(d['removed_by_test_set'])})"
        items.append(
            f"decontamination: {d['ngram']}-gram overlap with {indexed or 'no test set'}: "
            + removed
        )
        if d["not_loaded"]:
            items.append(f"test sets not loaded: {counts_text(d['not_loaded'])}")
    else:
        items.append("decontamination: off")
    return Section("Dedup and decontamination", [Bullets(items)])


def counts_text(d: dict[str, Any]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in d.items())


def examples_section(examples: dict[str, list[Example]], rejected: list[dict]) -> Section:
    blocks: list[Any] = []
    if not examples:
        blocks.append(Text("No row was kept, so there is no example of the dataset."))
    for t, rows in sorted(examples.items()):
        for r in rows:
            blocks.append(Code(r.query, f"**{t}** {code(r.id)}: query"))
            blocks.append(Code(r.response, "response"))
    if rejected:
        blocks.append(Text("**Rejected samples**: the first of each technique and reason."))
    for r in rejected:
        got = ""
        if r.get("target") is not None:
            got = f"; gold {code(r['target'])}, " + (
                f"extracted {code(r['extracted'])}"
                if r.get("extracted") is not None
                else "no answer extracted"
            )
        label = f"**{r['technique']}**, {r['reason']}{got}"
        if "query" in r:
            blocks.append(Code(r["query"], f"{label}: query"))
            blocks.append(Code(r.get("response") or "", "response"))
        else:  # a stage-1 rewrite
            blocks.append(
                Code(r.get("raw") or r.get("text") or r.get("error") or "", f"{label}: the rewrite")
            )
    return Section("Examples", blocks)


def sections(
    cfg: AugmentConfig, stats: dict[str, Any], examples: dict, rejected: list[dict]
) -> list[Section]:
    budget = card_section(stats)  # budgets, coverage, votes, paraphrase decontamination
    return [
        technique_section(stats),
        stage1_section(stats),
        types_section(stats),
        dedup_section(stats),
        *([budget] if budget is not None else []),
        examples_section(examples, rejected),
        Section(
            "Files and config",
            [
                Bullets(
                    [
                        "`metamathqa.jsonl`: the dataset (query, response, type, "
                        "original_question, provenance)",
                        "`rejected.jsonl`: every rejected sample and rewrite, with its reason",
                        "`stats.json`: the numbers of this card; `config.yaml`: the resolved "
                        "config",
                    ]
                ),
                Code(
                    yaml.safe_dump(to_dict(cfg), sort_keys=False).rstrip(),
                    "the resolved config",
                    collapsed=True,
                ),
            ],
        ),
    ]


def write_card(
    run_dir: Path,
    cfg: AugmentConfig,
    stats: dict[str, Any],
    examples: dict[str, list[Example]],
    rejected: list[dict] | None = None,
) -> None:
    """DATA_CARD.md and DATA_CARD.html in run_dir."""
    teacher = stats.get("teacher", {}).get("model") or cfg.teacher.model or "(passed in)"
    page = Page(
        f"Data card: {Path(run_dir).resolve().name}",
        f"MetaMathQA-style augmentation · teacher `{cfg.teacher.backend}` / {code(teacher)} · "
        f"seeds {_seeds(cfg)} · shard {cfg.shard}",
        key=key_numbers(stats, cfg),
        sections=sections(cfg, stats, examples, rejected or []),
    )
    write_page(page, run_dir, "DATA_CARD")
