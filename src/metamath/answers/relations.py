"""Relations and inequalities as answers: one spelling per operator, inequalities as intervals.

    relation_form("x >= 5")                    -> "x \\geq 5"
    as_intervals("x \\geq 5")                   -> "[5,\\infty)"
    as_intervals("-2 < x \\leq 3")              -> "(-2,3]"
    as_intervals("x < 2 \\text{ or } x > 3")    -> "(-\\infty,2)\\cup(3,\\infty)"
    as_intervals("x \\neq 3")                   -> "(-\\infty,3)\\cup(3,\\infty)"

A solution set written as inequalities in one variable is the interval (or union) it denotes, so
"x \\geq 5", "5 \\leq x" and "[5, \\infty)" compare equal through the interval rules in equiv.py;
a strict bound never equals a closed one. Pure string work: the bounds are compared later.
"""

from __future__ import annotations

import re

_SPELLINGS = (
    (r"\\geqslant|\\geq|\\ge(?![a-zA-Z])|>=|≥", "\\geq"),
    (r"\\leqslant|\\leq|\\le(?![a-zA-Z])|<=|≤", "\\leq"),
    (r"\\neq|\\ne(?![a-zA-Z])|!=|≠", "\\neq"),
    (r"\\gt(?![a-zA-Z])", ">"),
    (r"\\lt(?![a-zA-Z])", "<"),
)
_OP = re.compile(r"\\geq|\\leq|\\neq|<|>")
_OR = re.compile(r"\\text\{\s*or\s*\}|\\(?:lor|vee)(?![a-zA-Z])|\s+or\s+|\\quad")
_VAR = re.compile(r"^\s*([a-zA-Z]|\\[a-z]+)(?:_\{?[a-zA-Z0-9]+\}?)?\s*$")
_NOT_BOUND = re.compile(r"(?<!\\)\b[a-zA-Z](?![a-zA-Z])")  # a letter outside a command
_FLIP = {"<": ">", ">": "<", "\\leq": "\\geq", "\\geq": "\\leq", "\\neq": "\\neq"}
_GREEK_CONST = ("\\pi", "\\infty", "\\sqrt", "\\frac", "\\dfrac", "\\tfrac", "\\cdot", "\\times")


def relation_form(s: str) -> str:
    """Every spelling of >=, <=, != as \\geq, \\leq, \\neq."""
    for pat, rep in _SPELLINGS:
        s = re.sub(pat, lambda _m, rep=rep: rep + " ", s)
    return s


def has_relation(s: str) -> bool:
    return _OP.search(relation_form(s)) is not None


def _is_bound(s: str) -> bool:
    """A side with no variable: a number, an expression in numbers and constants, or infinity."""
    s = s.strip()
    if not s:
        return False
    plain = s
    for c in _GREEK_CONST:
        plain = plain.replace(c, "")
    return not _NOT_BOUND.search(plain) and not re.search(r"\\[a-zA-Z]+", plain)


def _piece(part: str) -> tuple[str, list[str]] | None:
    """(variable, interval strings) for one inequality or chain in one variable, else None."""
    sides = _OP.split(part)
    ops = _OP.findall(part)
    if len(sides) == 2:
        a, b = (x.strip() for x in sides)
        op = ops[0]
        if _VAR.match(a) and _is_bound(b):
            var, bound = a, b
        elif _VAR.match(b) and _is_bound(a):
            var, bound, op = b, a, _FLIP[op]
        else:
            return None
        out = {
            ">": [f"({bound},\\infty)"],
            "\\geq": [f"[{bound},\\infty)"],
            "<": [f"(-\\infty,{bound})"],
            "\\leq": [f"(-\\infty,{bound}]"],
            "\\neq": [f"(-\\infty,{bound})", f"({bound},\\infty)"],
        }[op]
        return var.replace(" ", ""), out
    if len(sides) == 3:
        a, x, b = (s.strip() for s in sides)
        if not (_VAR.match(x) and _is_bound(a) and _is_bound(b)):
            return None
        if all(o in ("<", "\\leq") for o in ops):
            lo, hi = (a, ops[0]), (b, ops[1])
        elif all(o in (">", "\\geq") for o in ops):
            lo, hi = (b, _FLIP[ops[1]]), (a, _FLIP[ops[0]])
        else:
            return None
        left = "(" if lo[1] == "<" else "["
        right = ")" if hi[1] == "<" else "]"
        return x.replace(" ", ""), [f"{left}{lo[0]},{hi[0]}{right}"]
    return None


def as_intervals(s: str) -> str | None:
    """The interval or union an inequality in one variable denotes, or None."""
    s = relation_form(s).strip().strip("$").strip()
    if not _OP.search(s):
        return None
    names, out = set(), []
    for part in _OR.split(s):
        got = _piece(part)
        if got is None:
            return None
        names.add(got[0])
        out += got[1]
    return "\\cup".join(out) if len(names) == 1 else None


def oriented(s: str) -> str:
    """One relation read left to right with '<' or '\\leq' ("x > 5" -> "5 < x"), when it has
    one operator; otherwise s with its operators respelled."""
    s = relation_form(s)
    ops = _OP.findall(s)
    if len(ops) == 1 and ops[0] in (">", "\\geq"):
        a, b = _OP.split(s)
        return f"{b.strip()} {_FLIP[ops[0]]} {a.strip()}"
    return s
