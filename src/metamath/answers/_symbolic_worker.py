"""The math-verify worker process behind metamath.answers.symbolic (one JSON line in, one out).

    {"p": "<pred latex>", "g": "<gold latex>"}  ->  {"r": "correct" | "mismatch" | "error"}
    {"audit": "<completion>", "g": "<gold>"}     ->  {"r": "ok", "plain": bool, "wrapped": bool,
                                                     "pred": str, "gold": str}

The second form is math-verify exactly as users call it, for the disagreement audit (audit.py):
`verify(parse(gold), parse(completion))` with its default extraction, and the same with the gold
wrapped in $...$. Those defaults include math-verify's plain-expression parser, which hands a
regex-filtered string of digits and operators to sympy's parse_expr; it runs only here, in this
capped, killable process, and never decides our own verdicts.

math-verify's own signal-based timeouts are off (parsing_timeout=None, timeout_seconds=None):
the parent enforces the timeout by killing this process. Parsed golds are cached, because a
filter run compares many samples against the same gold.
"""

from __future__ import annotations

import json
import logging
import sys
from functools import lru_cache


def main() -> int:
    try:  # a runaway expression should die of MemoryError, not take the machine down
        import resource

        cap = 4 << 30
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError):
        pass
    out = sys.stdout
    sys.stdout = sys.stderr  # library prints must not corrupt the protocol stream
    logging.disable(logging.WARNING)  # math-verify warns once that its timeout is off: intended
    from math_verify import LatexExtractionConfig, parse, verify

    # LaTeX extraction only: math-verify's plain-expression path hands text to sympy's
    # parse_expr, which is built on eval(). Its regex admits only digits and operators, but a
    # grammar-based parser (latex2sympy2) is the one we want model text to meet.
    config = [LatexExtractionConfig()]

    @lru_cache(maxsize=4096)
    def parsed(s: str):
        # Wrap in $...$ so the LaTeX extractor reads the whole string as one expression.
        text = s if "$" in s or "\\boxed" in s else f"${s}$"
        return parse(text, extraction_config=config, parsing_timeout=None)

    def as_users_do(completion: str, gold: str) -> dict:
        p = parse(completion, parsing_timeout=None)
        reply = {"r": "ok", "pred": _shown(p)}
        for key, g_text in (("plain", gold), ("wrapped", _wrapped(gold))):
            g = parse(g_text, parsing_timeout=None)
            reply[key] = bool(g) and bool(p) and bool(verify(g, p, timeout_seconds=None))
            reply["gold" if key == "plain" else "gold_wrapped"] = _shown(g)
        return reply

    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        try:
            req = json.loads(line)
            if "audit" in req:
                reply = as_users_do(req["audit"], req["g"])
            else:
                g, p = parsed(req["g"]), parsed(req["p"])
                ok = bool(g) and bool(p) and verify(g, p, timeout_seconds=None)
                reply = {"r": "correct" if ok else "mismatch"}
        except Exception:  # a parse/verify failure on odd input is a verdict, not a crash
            reply = {"r": "error"}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    return 0


def _wrapped(gold: str) -> str:
    """The gold as LaTeX math: "$gold$" unless it already has math delimiters or a box."""
    return gold if "$" in gold or "\\boxed" in gold or "\\(" in gold else f"${gold}$"


def _shown(parsed: list) -> str | None:
    """math-verify's extracted string (parse returns [sympy object, the string it read])."""
    if not parsed:
        return None
    return str(parsed[-1] if len(parsed) > 1 else parsed[0])[:500]


if __name__ == "__main__":
    sys.exit(main())
