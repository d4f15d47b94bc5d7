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

from metamath.augment.config import FILES, AugmentConfig
from metamath.augment.decontaminate import Contamination
from metamath.augment.table import Table
from metamath.io import read_jsonl
from metamath.records import TECHNIQUES, technique_of

_STAGE_OF = {"sv_rewrite": "self_verification"}


def _requests(work_dirs: list[Path], cfg: AugmentConfig) -> dict[str, Counter]:
    """Per technique: requests sent (every attempt: each is billed), those whose last attempt
    failed (requests.jsonl is appended by every run, so a failure a re-run retried is not
    counted), tokens and cache hits."""
    out: dict[str, Counter] = defaultdict(Counter)
    for w in work_dirs:
        p = w / FILES["requests"]
        if not p.exists():
            continue
        last: dict[str, dict] = {}
        for _, r in read_jsonl(p):
            last[r["id"]] = r
            c = out[_STAGE_OF.get(r["technique"], r["technique"])]
            c["requests"] += 1
            c["prompt_tokens"] += r["prompt_tokens"]
            c["completion_tokens"] += r["completion_tokens"]
            c["cached_samples"] += r["cached"]
            if r["samples"] and r["cached"] < r["samples"]:  # a cache hit costs nothing
                c["billed_prompt"] += r["prompt_tokens"]
                c["billed_completion"] += r["completion_tokens"]
        for r in last.values():
            out[_STAGE_OF.get(r["technique"], r["technique"])]["errors"] += bool(r.get("error"))
    return out


def _stage1(work_dirs: list[Path]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for name, file in (
        ("mask", FILES["masks"]),
        ("rephrase", FILES["rephrase"]),
        ("sv_rewrite", FILES["sv_rewrite"]),
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
    t: Table,
    chosen: list[int],
    contam: Contamination,
    extra: dict[str, Any],
) -> dict:
    """stats.json. tally: samples and grader rejections per technique; t: the assembly's
    Table (types, drop codes, details); chosen: the kept rows; extra: added at the end."""
    drops = _drops(t)
    kept_type: Counter = Counter(t.type_of(i) for i in chosen)
    kept: Counter = Counter()
    for ty, n in kept_type.items():
        kept[technique_of(ty)] += n
    reqs = _requests(work_dirs, cfg)
    per_tech = {
        tech: _technique(cfg, tech, tally.get(tech, Counter()), drops[tech], kept[tech], reqs)
        for tech in TECHNIQUES
    }
    types = {
        ty: {
            "available": drops["available"][ty],
            "target": cfg.targets.get(ty),
            "kept": kept_type[ty],
            "shortfall": max(0, cfg.targets.get(ty, 0) - kept_type[ty]),
        }
        for ty in sorted(set(drops["available"]) | set(kept_type) | set(cfg.targets))
    }
    dedup = drops["all"]
    return {
        "rows": len(chosen),
        "techniques": per_tech,
        "stage1": _stage1(work_dirs),
        "types": types,
        "decontamination": _decontamination(cfg, contam, drops["test_ids"], t),
        "dedup": {"exact": dedup["duplicate"], "near": dedup["near_duplicate"]},
        "zero_yield": sorted(k for k, v in per_tech.items() if v["samples"] and not v["kept"]),
        **extra,
    }


def _drops(t: Table) -> dict[str, Counter]:
    """Assembly's drops by technique (and "all" of them), the test ids matched, and the rows
    available per type (those not dropped as a copy or as contaminated)."""
    out: dict[str, Counter] = defaultdict(Counter)
    for i in range(len(t)):
        name = t.reason(i)
        if name:
            out[technique_of(t.type_of(i))][name] += 1
            out["all"][name] += 1
        if name == "contaminated":
            out["test_ids"][t.detail[i]] += 1
        if name not in ("duplicate", "near_duplicate", "contaminated"):
            out["available"][t.type_of(i)] += 1
    return out


def _technique(
    cfg: AugmentConfig, tech: str, tally: Counter, dropped: Counter, kept: int, reqs: dict
) -> dict:
    samples = tally["samples"]
    graded = {k: v for k, v in tally.items() if k != "samples"}
    rejected = dict(graded)
    for k, v in dropped.items():
        rejected[k] = rejected.get(k, 0) + v
    rq = reqs.get(tech, Counter())
    cost = (
        rq["billed_prompt"] * cfg.teacher.price_prompt_per_1m
        + rq["billed_completion"] * cfg.teacher.price_completion_per_1m
    ) / 1e6
    out = {
        "enabled": getattr(cfg, tech).enabled,
        "requests": rq["requests"],
        "request_errors": rq["errors"],
        "samples": samples,
        "correct": samples - sum(graded.values()),
        "kept": kept,
        "rejected": dict(sorted(rejected.items())),
        "yield": round(kept / samples, 4) if samples else 0.0,
        "tokens": {
            "prompt": rq["prompt_tokens"],
            "completion": rq["completion_tokens"],
            "cached_samples": rq["cached_samples"],
        },
        "cost_usd": round(cost, 4),
    }
    if kept + sum(rejected.values()) != samples:  # an accounting bug
        raise RuntimeError(f"stats for {tech} do not add up: {out}")
    return out


def _decontamination(
    cfg: AugmentConfig, contam: Contamination, test_ids: Counter, t: Table
) -> dict:
    by_set: Counter = Counter()
    for d, n in test_ids.items():
        by_set[d.split(":", 1)[0]] += n
    index = contam.ngram
    return {
        "enabled": cfg.decontaminate,
        "ngram": cfg.decontam_ngram,
        "indexed": index.sources if index is not None else {},
        "not_loaded": contam.missing,
        "removed": sum(test_ids.values()),
        "removed_by_test_set": dict(by_set),
        "matched_test_ids": sorted(test_ids)[:50],
        **contam.stats(t),
    }
