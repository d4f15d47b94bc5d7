"""stats.json of an augmentation run (the data card that reads it: augment/card.py).

stats.json, per technique: requests, errors, samples, kept, rejected (by reason, from the
grader and from assembly), yield = kept / samples, tokens, cost; for every technique
kept + sum(rejected) == samples. Stage 1 (rephrasings, SV statements): generated, accepted and
rejected by reason. Per type: available after filtering and dedup, target, kept, shortfall.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from metamath.augment.config import TECHNIQUE_FIELDS, AugmentConfig
from metamath.io import read_jsonl

_STAGE_OF = {"sv_rewrite": "self_verification"}


def _requests(work_dirs: list[Path], cfg: AugmentConfig) -> dict[str, Counter]:
    out: dict[str, Counter] = defaultdict(Counter)
    for w in work_dirs:
        p = w / "requests.jsonl"
        if not p.exists():
            continue
        for _, r in read_jsonl(p):
            c = out[_STAGE_OF.get(r["technique"], r["technique"])]
            c["requests"] += 1
            c["errors"] += r["error"] is not None
            c["prompt_tokens"] += r["prompt_tokens"]
            c["completion_tokens"] += r["completion_tokens"]
            c["cached_samples"] += r["cached"]
            if r["samples"] and r["cached"] < r["samples"]:  # a cache hit costs nothing
                c["billed_prompt"] += r["prompt_tokens"]
                c["billed_completion"] += r["completion_tokens"]
    return out


def _stage1(work_dirs: list[Path]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for name, file in (
        ("mask", "masks.jsonl"),
        ("rephrase", "rephrasings.jsonl"),
        ("sv_rewrite", "statements.jsonl"),
    ):
        reasons: Counter = Counter()
        n = 0
        for w in work_dirs:
            if (w / file).exists():
                for _, r in read_jsonl(w / file):
                    n += 1
                    reasons[r["reason"] or "accepted"] += 1
        acc = reasons.pop("accepted", 0)
        out[name] = {"generated": n, "accepted": acc, "rejected": dict(reasons)}
    return out


def build_stats(
    cfg: AugmentConfig,
    work_dirs: list[Path],
    tally: dict[str, Counter],
    t,
    chosen: list[int],
    reason_names: dict[int, str],
    index,
    missing: dict,
    extra: dict[str, Any],
) -> dict:
    """t: the assembly's Table (types, drop codes, details), chosen: the kept row indices."""
    assembly: dict[str, Counter] = defaultdict(Counter)
    avail: Counter = Counter()
    decon: Counter = Counter()
    dedup: Counter = Counter()
    for i, code in enumerate(t.code):
        name = reason_names.get(code)
        if name:
            assembly[_technique(t.type_of(i))][name] += 1
            dedup[name] += 1
        if name == "contaminated":
            decon[t.detail[i]] += 1
        if name not in ("duplicate", "near_duplicate", "contaminated"):
            avail[t.type_of(i)] += 1
    kept_type: Counter = Counter(t.type_of(i) for i in chosen)
    kept_t: Counter = Counter()
    for ty, n in kept_type.items():
        kept_t[_technique(ty)] += n
    reqs = _requests(work_dirs, cfg)
    per_tech = {}
    for t in TECHNIQUE_FIELDS:
        samples = tally.get(t, Counter())["samples"]
        rejected = {k: v for k, v in tally.get(t, Counter()).items() if k != "samples"}
        for k, v in assembly[t].items():
            rejected[k] = rejected.get(k, 0) + v
        rq = reqs.get(t, Counter())
        cost = (
            rq["billed_prompt"] * cfg.teacher.price_prompt_per_1m
            + rq["billed_completion"] * cfg.teacher.price_completion_per_1m
        ) / 1e6
        per_tech[t] = {
            "enabled": getattr(cfg, t).enabled,
            "requests": rq["requests"],
            "request_errors": rq["errors"],
            "samples": samples,
            "correct": samples
            - sum(v for k, v in tally.get(t, Counter()).items() if k != "samples"),
            "kept": kept_t[t],
            "rejected": dict(sorted(rejected.items())),
            "yield": round(kept_t[t] / samples, 4) if samples else 0.0,
            "tokens": {
                "prompt": rq["prompt_tokens"],
                "completion": rq["completion_tokens"],
                "cached_samples": rq["cached_samples"],
            },
            "cost_usd": round(cost, 4),
        }
        if per_tech[t]["kept"] + sum(rejected.values()) != samples:  # an accounting bug
            raise RuntimeError(f"stats for {t} do not add up: {per_tech[t]}")
    types = {
        t: {
            "available": avail[t],
            "target": cfg.targets.get(t),
            "kept": kept_type[t],
            "shortfall": max(0, cfg.targets.get(t, 0) - kept_type[t]),
        }
        for t in sorted(set(avail) | set(kept_type) | set(cfg.targets))
    }
    by_set: Counter = Counter()
    for d, n in decon.items():
        by_set[d.split(":", 1)[0]] += n
    return {
        "rows": len(chosen),
        "techniques": per_tech,
        "stage1": _stage1(work_dirs),
        "types": types,
        "decontamination": {
            "enabled": cfg.decontaminate,
            "ngram": cfg.decontam_ngram,
            "indexed": index.sources if index is not None else {},
            "not_loaded": missing,
            "removed": sum(decon.values()),
            "removed_by_test_set": dict(by_set),
            "matched_test_ids": sorted(decon)[:50],
        },
        "dedup": {"exact": dedup["duplicate"], "near": dedup["near_duplicate"]},
        "zero_yield": sorted(t for t, v in per_tech.items() if v["samples"] and not v["kept"]),
        **extra,
    }


def _technique(type_: str) -> str:
    suffix = type_.split("_", 1)[1]
    return {
        "AnsAug": "answer_aug",
        "Rephrased": "rephrase",
        "SV": "self_verification",
        "FOBAR": "fobar",
    }[suffix]
