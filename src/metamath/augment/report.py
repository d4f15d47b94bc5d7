"""stats.json and DATA_CARD.md of an augmentation run.

stats.json, per technique: requests, errors, samples, kept, rejected (by reason, from the
grader and from assembly), yield = kept / samples, tokens, cost; for every technique
kept + sum(rejected) == samples. Stage 1 (rephrasings, SV statements): generated, accepted and
rejected by reason. Per type: available after filtering and dedup, target, kept, shortfall.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml

from metamath.augment.config import TECHNIQUE_FIELDS, AugmentConfig
from metamath.config import to_dict
from metamath.io import atomic_write_text, read_jsonl

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


def write_card(path: Path, cfg: AugmentConfig, stats: dict, examples: dict) -> None:
    L = [
        "# Data card: MetaMathQA-style augmentation run",
        "",
        f"Rows: **{stats['rows']}**. Teacher: `{cfg.teacher.backend}` / "
        f"`{stats.get('teacher', {}).get('model') or cfg.teacher.model or '(passed in)'}`. "
        "Seeds: "
        + ", ".join(f"{s.name}:{s.split}" + (f" ({s.path})" if s.path else "") for s in cfg.seeds)
        + f". Shard {cfg.shard}.",
        "",
        "## Per technique",
        "",
        "| technique | requests | samples | kept | yield | rejected (reason: n) | tokens "
        "(prompt/completion) | cost USD |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t, v in stats["techniques"].items():
        rej = ", ".join(f"{k}: {n}" for k, n in v["rejected"].items()) or "-"
        errs = f" ({v['request_errors']} failed)" if v["request_errors"] else ""
        L.append(
            f"| {t} | {v['requests']}{errs} | {v['samples']} | {v['kept']} | {v['yield']:.1%} "
            f"| {rej} | {v['tokens']['prompt']}/{v['tokens']['completion']} "
            f"| {v['cost_usd']} |"
        )
    if stats["zero_yield"]:
        L += [
            "",
            f"**Zero yield** (samples drawn, none kept): {', '.join(stats['zero_yield'])}."
            " A random or weak teacher gives this; check its answers before scaling up.",
        ]
    for kind, m in stats.get("masking", {}).items():
        L += [
            "",
            f"Masking ({kind} seeds of this shard): {m['masks']} backward-question "
            f"candidates from {m['with_masks']} of {m['questions']} questions (every "
            "maskable number; each round-trips to the original question).",
        ]
    L += ["", "## Stage 1 (rewrites checked before solving)", ""]
    for k, v in stats["stage1"].items():
        L.append(
            f"- {k}: {v['generated']} generated, {v['accepted']} accepted, rejected "
            f"{v['rejected'] or 'none'}"
        )
    L += [
        "",
        "## Per type",
        "",
        "| type | available | target | kept | shortfall |",
        "|---|---|---|---|---|",
    ]
    for t, v in stats["types"].items():
        L.append(
            f"| {t} | {v['available']} | {v['target'] or 'all'} | {v['kept']} | {v['shortfall']} |"
        )
    d = stats["decontamination"]
    L += [
        "",
        "## Dedup and decontamination",
        "",
        f"Exact duplicates removed: {stats['dedup']['exact']}; near-duplicates: "
        f"{stats['dedup']['near']}. Decontamination ({d['ngram']}-gram overlap with "
        f"{', '.join(f'{k} test ({n})' for k, n in d['indexed'].items()) or 'no test set'}): "
        f"{d['removed']} rows removed {d['removed_by_test_set'] or ''}."
        + (f" Not loaded: {d['not_loaded']}." if d["not_loaded"] else ""),
        "",
        "## Examples",
        "",
    ]
    for t, rows in sorted(examples.items()):
        for r in rows:
            L += [
                f"### {t} (`{r['id']}`)",
                "",
                "Query:",
                "",
                "```",
                r["query"],
                "```",
                "",
                "Response:",
                "",
                "```",
                r["response"],
                "```",
                "",
            ]
    L += [
        "## Config",
        "",
        "```yaml",
        yaml.safe_dump(to_dict(cfg), sort_keys=False).rstrip(),
        "```",
        "",
    ]
    atomic_write_text(path, "\n".join(L))
