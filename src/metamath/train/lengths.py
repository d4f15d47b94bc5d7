"""The length policy for training examples (the original trainer cut prompt+response at 512
tokens silently, losing "The answer is:" and the EOS on long samples): over_length=drop (the
default) skips examples longer than max_length; over_length=cut truncates them as the original
did. Either way they are counted (data_report.json) and listed (dropped.jsonl), and an example
whose prompt alone fills max_length is always dropped (it would train on nothing)."""

from __future__ import annotations

from typing import Any


def max_token_chars(tok: Any) -> int:
    """The most characters one token of this tokenizer can stand for: its longest vocabulary
    entry (byte-level BPE writes one character per byte, SentencePiece one per character), so
    a text of C characters is at least C / max_token_chars tokens long."""
    vocab = tok.get_vocab() if hasattr(tok, "get_vocab") else {}
    return max((len(t) for t in vocab), default=0) or 64


def precheck_lengths(
    rows: list[tuple[str, str, str]], tok: Any, max_length: int, over_length: str
) -> tuple[list[tuple[str, str, str]], list[dict[str, Any]]]:
    """Rows that can fit in max_length tokens, and the ones that cannot, found by their length
    in characters before any tokenising (a 50 MB row would otherwise be tokenised whole).

    A row of more than 2 x max_length x max_token_chars characters is certainly longer than
    max_length tokens (the factor 2 covers a normaliser that merges characters). With
    over_length=cut its response is shortened to that many characters instead: it is still
    over max_length tokens, so the cut below gives the same first max_length tokens."""
    budget = 2 * max_length * max_token_chars(tok)
    keep, dropped = [], []
    for ref, q, r in rows:
        chars = len(q) + len(r)
        if chars <= budget:
            keep.append((ref, q, r))
            continue
        if len(q) > budget:
            reason = "prompt_too_long"
        elif over_length == "cut":
            keep.append((ref, q, r[: budget - len(q)]))
            continue
        else:
            reason = "too_long"
        dropped.append(
            {
                "ref": ref,
                "reason": reason,
                "tokens": None,
                "prompt_tokens": None,
                "chars": chars,
                "max_length": max_length,
                "note": f"not tokenised: {chars:,} characters cannot fit in {max_length} "
                f"tokens (checked before tokenising; the bound is {budget:,} characters)",
            }
        )
    return keep, dropped


def apply_length_policy(
    out: Any, rows: list, ids: list, plens: list[int], max_length: int, over_length: str
) -> dict[str, int]:
    """Append the examples that train to `out` (a TrainData), their drops to out.dropped;
    returns the counts: long (dropped as too long), prompt_long, cut."""
    L = max_length
    early = [d["reason"] for d in out.dropped]
    counts = {
        "long": early.count("too_long"),
        "prompt_long": early.count("prompt_too_long"),
        "cut": 0,
    }
    for (ref, _, _), x, p in zip(rows, ids, plens, strict=False):
        drop = "prompt_too_long" if p >= L else None
        if drop is None and len(x) > L and over_length == "drop":
            drop = "too_long"
        if drop:
            counts["prompt_long" if drop == "prompt_too_long" else "long"] += 1
            out.dropped.append(
                {"ref": ref, "reason": drop, "tokens": len(x), "prompt_tokens": p, "max_length": L}
            )
            continue
        if len(x) > L:
            counts["cut"] += 1
            x = x[:L]  # the original trainer's right truncation: answer line and EOS lost
        out.ids.append(x)
        out.prompt_lens.append(p)
        out.refs.append(ref)
    return counts


def length_report(out, ids, bad, early, counts, cfg, n_read: int, hit: bool) -> dict[str, Any]:  # noqa: ANN001
    """data_report.json: rows read, bad rows, what the length policy removed, token lengths."""
    L = cfg.max_length
    lengths = sorted(len(x) for x in ids) or [0]
    return {
        "rows": n_read + len(bad),
        "bad_rows_skipped": len(bad),
        "bad_row_examples": [str(e) for e in bad[:5]],
        "not_tokenised_too_long": len(early),
        "max_length": L,
        "over_length": cfg.over_length,
        "longer_than_max_length": counts["long"]
        + counts["cut"]
        + sum(
            1
            for d in out.dropped
            if d["reason"] == "prompt_too_long" and (d["tokens"] is None or d["tokens"] > L)
        ),
        "dropped_too_long": counts["long"],
        "dropped_prompt_too_long": counts["prompt_long"],
        "cut_at_max_length": counts["cut"],
        "kept": len(out.ids),
        "cache_hit": hit,
        "tokens_mean": round(sum(lengths) / max(len(ids), 1), 1),
        "tokens_p95": lengths[int(0.95 * (len(lengths) - 1))],
        "tokens_max": lengths[-1],
    }
