"""Sampling budgets by difficulty: fixed k (MetaMath), uniform and prop2diff (DART-Math).

    info = run_solve(cfg, llm, items, work, log)        # every solve request, round by round
    targets = budget_targets(cfg, [work])               # item id -> kept samples wanted

MetaMath draws k samples of every question, so the questions a teacher rarely solves, the ones
a student most needs, end with the fewest kept solutions. DART-Math (Tong et al. 2024,
"Difficulty-Aware Rejection Tuning", github.com/hkust-nlp/dart-math, README section "DARS")
samples until every query has enough correct responses: "Uniform" until each has k_u correct
responses; "Prop2Diff" until the count is proportional to the query's difficulty score, its
fail rate (the share of wrong samples), so that the hardest queries get k_p. Here:

- fixed: k samples per question in one request (today's behaviour, no rounds).
- uniform: round 1 draws first_samples (default k) per question; each later round gives every
  question still short of k kept samples the number its observed yield says it needs
  (Laplace-smoothed), until it has k or max_samples were drawn.
- prop2diff: round 1 (first_samples) measures each question's fail rate f; its target is
  max(1, ceil(k * f)) kept samples (k for a question never solved); then rounds as uniform.
- total_samples (uniform, prop2diff) caps the samples of a technique; each round serves the
  questions with the fewest kept samples first, so coverage comes before surplus.

"Kept" counts what assembly will keep: correct samples of the question that are neither an exact
nor a near-duplicate of an earlier one (the same rule, in sample order, as assemble.py), and
assembly keeps exactly the first `target` of them (the rest: "over_budget"). Round 1 is a fixed
function of the config; every later round's plan (blocks and targets) is appended to
work/budget.jsonl before it runs, so a resumed run replays exactly the plans it had made, sends
no answered request again (done rows are skipped, the cache covers the rest), and then plans
on. A round with failed requests ends the rounds: re-run to retry them and continue.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from metamath.augment.config import FILES, AugmentConfig
from metamath.augment.dedup import exact_key, jaccard, shingles
from metamath.augment.filter import format_response
from metamath.augment.generate import Item, run_jobs, sample_ids, sample_index, solve_job
from metamath.augment.table import h64
from metamath.io import JsonlWriter, done_ids, read_jsonl, repair_jsonl
from metamath.llm.base import LLM
from metamath.records import Candidate


def budgeted(cfg: AugmentConfig) -> set[str]:
    """The enabled techniques that sample in rounds."""
    return {t for t, tc in cfg.techniques().items() if tc.enabled and tc.budget != "fixed"}


def survivors(rows: Iterable[tuple[int, str, str]], threshold: float, words: dict) -> list[int]:
    """Sample indices kept among (index, query, formatted response) rows of one question: in
    index order, drop exact copies and rows within `threshold` Jaccard of an earlier kept one
    (assemble.py applies the same rule, so the counts agree)."""
    seen: set[bytes] = set()
    kept_sh: list[frozenset[int]] = []
    out = []
    for sidx, query, resp in sorted(rows):
        key = exact_key(query, resp)
        if key in seen:
            continue
        seen.add(key)
        if threshold < 1.0:
            sh = shingles(resp, words)
            if any(jaccard(sh, o) >= threshold for o in kept_sh):
                continue
            kept_sh.append(sh)
        out.append(sidx)
    return out


class State:
    """What the candidate file says about each budgeted question: its correct rows (by file
    offset, no text held) and how many of them assembly would keep. Read incrementally."""

    def __init__(self, cfg: AugmentConfig, path: Path, techniques: set[str]):
        self.cfg, self.path, self.techniques = cfg, path, techniques
        self.offset = 0
        self.samples: Counter = Counter()
        self.locs: dict[str, list[tuple[int, int]]] = {}  # item -> [(sample index, offset)]
        self._usable: dict[str, tuple[int, int]] = {}  # item -> (rows seen, usable)
        self._words: dict[str, int] = {}

    def scan(self) -> None:
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            off = self.offset
            for raw in f:
                if not raw.endswith(b"\n"):
                    break  # a torn last line: run_jobs cuts and redoes it
                if raw.strip():
                    c = Candidate.from_dict(json.loads(raw))
                    if c.technique in self.techniques:
                        self.samples[c.item_id] += 1
                        if c.correct:
                            self.locs.setdefault(c.item_id, []).append((sample_index(c.id), off))
                off += len(raw)
            self.offset = off

    def correct(self, item_id: str) -> int:
        return len(self.locs.get(item_id, ()))

    def usable(self, item_id: str) -> int:
        locs = self.locs.get(item_id, [])
        got = self._usable.get(item_id)
        if got and got[0] == len(locs):
            return got[1]
        rows = []
        with open(self.path, "rb") as f:
            for sidx, off in locs:
                f.seek(off)
                c = Candidate.from_dict(json.loads(f.readline()))
                rows.append((sidx, c.query, format_response(c.response, c.target, c.kind)))
        n = len(survivors(rows, self.cfg.near_dup_threshold, self._words))
        self._usable[item_id] = (len(locs), n)
        return n


def _fingerprint(cfg: AugmentConfig, techniques: set[str]) -> dict[str, Any]:
    keys = ("budget", "k", "max_samples", "first_samples", "total_samples")
    return {
        "techniques": {
            t: {k: getattr(getattr(cfg, t), k) for k in keys} for t in sorted(techniques)
        },
        "near_dup_threshold": cfg.near_dup_threshold,
        "seed": cfg.seed,
    }


def _load_plans(path: Path, fingerprint: dict) -> list[dict]:
    """The plans made so far (rounds 2, 3, ...); the file starts with the settings they used."""
    lines: list[dict] = []
    if path.exists():
        repair_jsonl(path)
        lines = [r for _, r in read_jsonl(path)]
    if not lines:
        with JsonlWriter(path, "w") as f:
            f.write({"fingerprint": fingerprint})
        return []
    if lines[0].get("fingerprint") != fingerprint:
        raise ValueError(
            f"{path}: this run's budget rounds were planned with other settings "
            f"({lines[0].get('fingerprint')}; now {fingerprint}); run with a new --out, or "
            "delete that file to plan the remaining rounds afresh"
        )
    return lines[1:]


def first_blocks(cfg: AugmentConfig, items: list[Item]) -> dict[str, tuple[int, int]]:
    """Round 1: k samples of a fixed-budget question, first_samples (default k) of the others;
    under total_samples, questions in a fixed hash order until it is spent."""
    left = {t: tc.total_samples or math.inf for t, tc in cfg.techniques().items()}
    out = {}
    for it in sorted(items, key=lambda it: h64(it.item_id)):
        tc = getattr(cfg, it.technique)
        if tc.budget == "fixed":
            out[it.item_id] = (0, tc.k)
            continue
        n = int(min(tc.first_samples or tc.k, left[it.technique]))
        if n > 0:
            out[it.item_id] = (0, n)
            left[it.technique] -= n
    return out


def _targets(cfg: AugmentConfig, items: list[Item], state: State) -> dict[str, int]:
    """prop2diff targets from round 1's fail rates."""
    out = {}
    for it in items:
        tc = getattr(cfg, it.technique)
        if tc.budget == "prop2diff":
            n = state.samples[it.item_id]
            fail = 1.0 - state.correct(it.item_id) / n if n else 1.0
            out[it.item_id] = max(1, math.ceil(tc.k * fail - 1e-9))
    return out


def plan_round(
    cfg: AugmentConfig,
    items: list[Item],
    state: State,
    drawn: dict[str, int],
    targets: dict[str, int],
) -> dict[str, tuple[int, int]]:
    """The next round: (start, n) for every question short of its target (and of max_samples),
    sized by its smoothed yield so far, the fewest-kept first while total_samples lasts."""
    spent: Counter = Counter()
    for it in items:
        spent[it.technique] += drawn.get(it.item_id, 0)
    wants = []
    for it in items:
        tc = getattr(cfg, it.technique)
        d = drawn.get(it.item_id, 0)
        if d >= tc.max_samples:
            continue
        goal = targets.get(it.item_id, tc.k)
        got = state.correct(it.item_id)
        if got >= goal:
            got = state.usable(it.item_id)
            if got >= goal:
                continue
        p = (got + 1) / (d + 2)
        n = min(math.ceil((goal - got) / p), tc.max_samples - d)
        wants.append((got, h64(it.item_id), it, d, n))
    wants.sort(key=lambda w: w[:2])
    blocks = {}
    by_level: dict[tuple[str, int], list] = {}
    for got, _, it, d, n in wants:
        if not getattr(cfg, it.technique).total_samples:
            blocks[it.item_id] = (d, n)
        else:
            by_level.setdefault((it.technique, got), []).append((it, d, n))
    # Under a total budget: the questions with the fewest kept samples first, the budget
    # shared evenly among the questions of one level (water-filling), the next level after.
    for (tech, _), group in sorted(by_level.items(), key=lambda kv: kv[0][1]):
        left = getattr(cfg, tech).total_samples - spent[tech]
        for (it, d, _), n in zip(group, share([n for _, _, n in group], left), strict=True):
            if n > 0:
                blocks[it.item_id] = (d, n)
                spent[tech] += n
    return blocks


def share(wants: list[int], budget: int) -> list[int]:
    """Split a budget over wants evenly: the largest equal level s with sum(min(w, s)) within
    the budget, then one more each to the first ones while any is left."""
    if budget <= 0:
        return [0] * len(wants)
    if sum(wants) <= budget:
        return list(wants)
    lo, hi = 0, max(wants)
    while lo < hi:  # binary search for the level
        mid = (lo + hi + 1) // 2
        if sum(min(w, mid) for w in wants) <= budget:
            lo = mid
        else:
            hi = mid - 1
    out = [min(w, lo) for w in wants]
    left = budget - sum(out)
    for i, w in enumerate(wants):
        if left and out[i] < w:
            out[i] += 1
            left -= 1
    return out


def _run_blocks(cfg, llm, items, blocks, out, log, done, desc, progress) -> bool:
    """Run one round; True when every block came back whole."""
    todo = [
        (it, blocks[it.item_id])
        for it in items
        if it.item_id in blocks
        and not all(i in done for i in sample_ids(it.item_id, *blocks[it.item_id]))
    ]
    run_jobs(
        llm,
        (solve_job(cfg, it, a, n) for it, (a, n) in todo),
        out,
        log,
        cfg.batch_size,
        desc,
        progress,
        done=done,
    )
    return all(all(i in done for i in sample_ids(it.item_id, a, n)) for it, (a, n) in todo)


def run_solve(
    cfg: AugmentConfig, llm: LLM, items: list[Item], work: Path, log: Path, progress: bool = False
) -> dict[str, Any]:
    """Every solve request of the run: round 1 for all questions, then the budget rounds."""
    out = work / FILES["solve"]
    done = done_ids(out)
    blocks = first_blocks(cfg, items)
    whole = _run_blocks(cfg, llm, items, blocks, out, log, done, "augment solve", progress)
    techniques = budgeted(cfg)
    if not techniques:
        return {}
    mine = [it for it in items if it.technique in techniques]
    drawn = {i: a + n for i, (a, n) in blocks.items()}
    state = State(cfg, out, techniques)
    state.scan()
    path = work / FILES["budget"]
    plans = _load_plans(path, _fingerprint(cfg, techniques))
    targets: dict[str, int] = {}
    rounds = 1
    while whole:
        if rounds <= len(plans):
            plan = plans[rounds - 1]
        else:
            if rounds == 1:  # prop2diff's targets: fixed once, from round 1's fail rates
                targets = _targets(cfg, mine, state)
            plan = {"round": rounds + 1, "blocks": plan_round(cfg, mine, state, drawn, targets)}
            if rounds == 1:
                plan["targets"] = targets
            with JsonlWriter(path) as f:  # one line: a torn one is cut
                f.write(plan)
            plans.append(plan)
        targets = plan.get("targets", targets)
        blocks = {i: tuple(b) for i, b in plan["blocks"].items()}
        if not blocks:
            break
        desc = f"augment solve, round {plan['round']}"
        whole = _run_blocks(cfg, llm, mine, blocks, out, log, done, desc, progress)
        drawn.update({i: a + n for i, (a, n) in blocks.items()})
        state.scan()
        rounds += 1
    return {"rounds": rounds, "complete": whole}


def budget_targets(cfg: AugmentConfig, work_dirs: list[Path]) -> dict[str, int]:
    """item id -> kept samples wanted, for questions with a prop2diff target (uniform: k)."""
    out: dict[str, int] = {}
    for w in work_dirs:
        p = Path(w) / FILES["budget"]
        if p.exists():
            for _, r in read_jsonl(p):
                out.update(r.get("targets", {}))
    return out
