"""Paraphrase-level decontamination: what the MinHash check catches that word 10-grams miss, its
false flags, and its speed on one core (ours vs datasketch, side by side).

    python benchmarks/decontam_minhash.py            # needs ../shared/data (or $METAMATH_DATA)

Index: all GSM8K test (1,319) and MATH test (5,000) problems, as `metamath augment` builds it.
1. Test items in disguise: every GSM8K and MATH test question rewritten lightly (two sentences
   swapped, a few common words replaced by synonyms; numbers kept), and a heavier rewrite
   (the question moved first and every listed synonym replaced); the GSM8K-Backward questions
   (FOBAR/SV forms of GSM8K test items). Recall of the 10-gram rule, of MinHash, and of both.
2. False flags: 10,000 train questions that are not test items: all 7,473 GSM8K train questions
   and 2,527 backward (FOBAR) questions built from them by our own masking, with the rewritten
   GSM8K test questions mixed in (the goal: every rewrite found, <= 0.1% of the rest flagged).
   Also reported: the first 2,527 MATH train questions (MATH's train and test sets share
   templates; the flagged pairs are listed so a reader can judge them).
3. Speed: queries per second on one pinned core (CPU time), ours and datasketch's MinHash +
   MinHashLSH (same shingles, 128 permutations, threshold 0.5), goal >= 5,000/s.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time

GOAL_QPS = 5000.0
SYN = {
    "buys": "purchases",
    "bought": "purchased",
    "has": "owns",
    "each": "every",
    "total": "overall",
    "gives": "hands",
    "wants": "would like",
    "makes": "produces",
    "store": "shop",
    "friends": "pals",
    "then": "after that",
    "find": "determine",
    "compute": "calculate",
    "what is": "what's",
}


def _sentences(q: str) -> list[str]:
    return re.split(r"(?<=[.?!])\s+", q.strip())


def light(q: str, rng: random.Random) -> str:
    """Two body sentences swapped, up to three synonym swaps; numbers kept."""
    s = _sentences(q)
    if len(s) > 2:
        i = rng.randrange(len(s) - 2)
        s[i], s[i + 1] = s[i + 1], s[i]
    out = " ".join(s)
    for a in rng.sample(sorted(SYN), 3):
        out = re.sub(rf"\b{a}\b", SYN[a], out, count=1)
    return out


def heavy(q: str, rng: random.Random) -> str:
    """The question sentence first, then the rest in order; every listed synonym replaced."""
    s = _sentences(q)
    out = " ".join([s[-1], *s[:-1]]) if len(s) > 1 else q
    for a, b in SYN.items():
        out = re.sub(rf"\b{a}\b", b, out)
    return out


def _one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--show", type=int, default=8, help="flagged MATH train pairs to print")
    a = ap.parse_args()
    _one_core()
    from metamath import data
    from metamath.augment.backward import mask_question
    from metamath.augment.decontaminate import NgramIndex
    from metamath.augment.minhash import MinHashIndex
    from metamath.prompts.augment import fobar_question

    gt, mt = data.load("gsm8k", "test"), data.load("math", "test")
    gtr, mtr = data.load("gsm8k", "train"), data.load("math", "train")
    bw = data.load("gsm8k_backward", "test")
    ng, mh = NgramIndex(10), MinHashIndex(a.threshold)
    t0 = time.process_time()
    for name, ps in (("gsm8k", gt), ("math", mt)):
        for p in ps:
            ng.add(f"{name}:{p.id}", p.question)
            mh.add(f"{name}:{p.id}", p.question)
    build = time.process_time() - t0
    rng = random.Random(0)
    sets = {
        "GSM8K test, light rewrite": [light(p.question, rng) for p in gt],
        "GSM8K test, heavy rewrite": [heavy(p.question, rng) for p in gt],
        "MATH test, light rewrite": [light(p.question, rng) for p in mt],
        "GSM8K-Backward (test items)": [p.question for p in bw],
    }
    print(f"index: {len(mh)} test problems, built in {build:.1f} s CPU")
    print(f"{'disguised test items':<30} {'n':>6} {'10-gram':>8} {'MinHash':>8} {'both':>8}")
    for name, qs in sets.items():
        n_ng = [ng.match(q) is not None for q in qs]
        n_mh = [mh.match(q) is not None for q in qs]
        both = sum(x or y for x, y in zip(n_ng, n_mh, strict=True))
        print(
            f"{name:<30} {len(qs):>6} {sum(n_ng) / len(qs):>8.2%} {sum(n_mh) / len(qs):>8.2%} "
            f"{both / len(qs):>8.2%}   (MinHash alone: {sum(y and not x for x, y in zip(n_ng, n_mh, strict=True))})"
        )
    # 2. false flags among 10,000 train-derived queries, the light GSM8K rewrites mixed in
    backward = []
    for s in gtr:
        for m in mask_question(s.question, s.id, "gsm8k")[:1]:
            backward.append(fobar_question(m.question, s.gold, m.var))
    train = [p.question for p in gtr] + backward[: 10_000 - len(gtr)]
    rewrites = sets["GSM8K test, light rewrite"]
    mixed = train + rewrites
    random.Random(1).shuffle(mixed)
    t0 = time.process_time()
    flagged = {q for q in mixed if mh.match(q) is not None}
    dt = time.process_time() - t0
    found = sum(q in flagged for q in rewrites)
    false = [q for q in train if q in flagged]
    print(
        f"\n{len(train)} train queries ({len(gtr)} GSM8K train + {len(train) - len(gtr)} FOBAR "
        f"questions of them) + {len(rewrites)} light rewrites of GSM8K test, shuffled:"
    )
    print(
        f"  rewrites found: {found} of {len(rewrites)} ({found / len(rewrites):.2%}); "
        f"train queries flagged: {len(false)} ({len(false) / len(train):.3%}; goal <= 0.1%)"
    )
    for q in false[: a.show]:
        print(f"    flagged: {q[:110]!r} ~ {mh.similar(q)[0]}")
    math_train = [p.question for p in mtr][:2527]
    hits = [(q, mh.match(q)) for q in math_train]
    hits = [(q, h) for q, h in hits if h]
    print(
        f"  MATH train (first {len(math_train)}): {len(hits)} flagged ({len(hits) / len(math_train):.1%};"
        " MATH train and test share problems and templates)"
    )
    text = {f"math:{p.id}": p.question for p in mt}
    for q, h in hits[: a.show]:
        print(f"    {h[1]:.2f}  {q[:70]!r}\n          ~ {text.get(h[0], '')[:70]!r}")
    qps = len(mixed) / dt
    print(
        f"\nspeed, one core (CPU time): ours {qps:,.0f} queries/s over {len(mixed)} queries "
        f"(goal {GOAL_QPS:,.0f}/s: {'met' if qps >= GOAL_QPS else 'NOT met'})"
    )
    ds = _datasketch(mh, mixed[:2000], a.threshold)
    if ds:
        print(
            f"  datasketch MinHash(128) + MinHashLSH(0.5), same shingles: {ds['qps']:,.0f} "
            f"queries/s (candidates only, no exact check); ours/datasketch = {qps / ds['qps']:.1f}x; "
            f"index build {ds['build']:.1f} s vs ours {build:.1f} s"
        )
    return 0


def _datasketch(mh, queries: list[str], threshold: float) -> dict | None:
    try:
        from datasketch import MinHash, MinHashLSH
    except ImportError:
        print("  datasketch not installed: pip install datasketch (the dev extra) to compare")
        return None
    from metamath.augment.minhash import shingle_hashes

    def sketch(sh):
        m = MinHash(num_perm=128)
        m.update_batch([int(x).to_bytes(8, "little") for x in sh])
        return m

    t0 = time.process_time()
    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    for i, sh in enumerate(mh._sh):
        lsh.insert(str(i), sketch(sh))
    build = time.process_time() - t0
    t0 = time.process_time()
    for q in queries:
        lsh.query(sketch(shingle_hashes(q)))
    return {"qps": len(queries) / (time.process_time() - t0), "build": build}


if __name__ == "__main__":
    sys.exit(main())
