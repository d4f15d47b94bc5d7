"""The math-verify worker process behind metamath.answers.symbolic (one JSON line in, one out).

    {"p": "<pred latex>", "g": "<gold latex>"}  ->  {"r": "correct" | "mismatch" | "error"}

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

    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        try:
            req = json.loads(line)
            g, p = parsed(req["g"]), parsed(req["p"])
            ok = bool(g) and bool(p) and verify(g, p, timeout_seconds=None)
            res = "correct" if ok else "mismatch"
        except Exception:  # a parse/verify failure on odd input is a verdict, not a crash
            res = "error"
        out.write(json.dumps({"r": res}) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
