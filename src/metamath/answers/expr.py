"""A tiny, safe numeric evaluator for the LaTeX that most MATH answers are made of.

    evaluate("2\\sqrt{2}")            -> (2.828..+0j, 2.828..+0j)
    evaluate("\\frac{x^2-1}{x-1}")     -> values at three fixed points of x

Why hand-written: math-verify (sympy) costs milliseconds per parse; this recursive-descent
parser covers numbers, + - * / ^, implicit products, \\frac, \\sqrt (with index), \\pi, e, i,
single-letter variables (with subscripts), a few functions and small factorials in microseconds,
and refuses everything else (the caller then asks math-verify). Two expressions that agree at
three fixed points of their variables to 1e-9 are treated as equal; a clear difference at any
point settles "not equal". It builds no Python code and calls no eval: tokens map to arithmetic.
"""

from __future__ import annotations

import cmath
import math
import re
from fractions import Fraction

_TOKEN = re.compile(r"\d+\.?\d*|\.\d+|\\[a-zA-Z]+|[a-zA-Z]|[-+*/^(){}\[\]_!]")
_FUNCS = {
    "\\sin": cmath.sin,
    "\\cos": cmath.cos,
    "\\tan": cmath.tan,
    "\\ln": cmath.log,
    "\\log": cmath.log,
    "\\exp": cmath.exp,
    "\\arcsin": cmath.asin,
    "\\arccos": cmath.acos,
    "\\arctan": cmath.atan,
    "\\sec": lambda z: 1 / cmath.cos(z),
    "\\csc": lambda z: 1 / cmath.sin(z),
    "\\cot": lambda z: 1 / cmath.tan(z),
}
TRIG = frozenset(_FUNCS) - {"\\ln", "\\log", "\\exp"}
_CONST = {"\\pi": math.pi, "e": math.e, "i": 1j}
_POINTS = (0.6180339887, 1.3247179572, 2.2360679775)  # irrational-ish; per-variable offsets
_GREEK = frozenset(
    "\\" + g
    for g in "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta kappa lambda mu "
    "nu xi rho sigma tau phi varphi chi psi omega".split()
)
MAX_TOKENS = 200
MAX_EXPONENT = 64.0


class _Refuse(Exception):
    """The string is outside the evaluator's grammar: let math-verify decide."""


def _exact_power(base: Fraction, exp: Fraction) -> Fraction:
    if exp.denominator != 1 or (base == 0 and exp <= 0):
        raise _Refuse("exponent")
    bits = max(abs(base.numerator), base.denominator).bit_length()
    if abs(exp) * max(bits, 1) > 200_000:  # a 60k-digit number is still cheap; beyond, refuse
        raise _Refuse("exponent")
    return base ** int(exp)


class _Parser:
    def __init__(self, tokens: list[str], env: dict[str, complex], exact: bool = False):
        # exact: Fractions only (integers, + - * / ^int, !), so 1/2^{98} and 2/2^{98} differ
        self.t, self.i, self.env, self.depth, self.exact = tokens, 0, env, 0, exact

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise _Refuse(f"expected {want!r}")
        self.i += 1
        return tok

    def expr(self) -> complex:
        self.depth += 1
        if self.depth > 40:
            raise _Refuse("too deep")
        v = self.term()
        while self.peek() in ("+", "-"):
            v = v + self.term() if self.take() == "+" else v - self.term()
        self.depth -= 1
        return v

    def term(self) -> complex:
        v = self.unary()
        while True:
            tok = self.peek()
            if tok in ("*", "\\cdot", "\\times"):
                self.take()
                v = v * self.unary()
            elif tok in ("/", "\\div"):
                self.take()
                d = self.unary()
                if d == 0:
                    raise _Refuse("division by zero")
                v = v / d
            elif tok is not None and (
                tok[0].isalnum()
                or tok in ("(", "{", ".")
                or tok in _FUNCS
                or tok in _CONST
                or tok in _ATOM_CMDS
                or tok in _GREEK
            ):
                v = v * self.power()  # implicit product: 2x, 3\pi, 2\sqrt{2}
            else:
                return v

    def unary(self) -> complex:
        if self.peek() in ("-", "+"):
            # 0 - v, not -v: -v gives a -0.0 imaginary part and \sqrt{-1} would land on -i
            return 0 - self.unary() if self.take() == "-" else self.unary()
        return self.power()

    def power(self) -> complex:
        base = self.atom()
        while self.peek() == "!":
            self.take()
            limit = 3000 if self.exact else 20
            if base.imag or base.real != int(base.real) or not 0 <= base.real <= limit:
                raise _Refuse("factorial")
            n = math.factorial(int(base.real))
            base = Fraction(n) if self.exact else complex(n)
        if self.peek() == "^":
            self.take()
            exp = self.unary() if self.peek() == "-" else self.atom(single_digit=True)
            if self.exact:
                return _exact_power(base, exp)
            if abs(exp) > MAX_EXPONENT or (base == 0 and exp.real <= 0):
                raise _Refuse("exponent")
            try:
                return base**exp
            except (OverflowError, ZeroDivisionError) as e:
                raise _Refuse("overflow") from e
        return base

    def group(self) -> complex:
        self.take("{")
        v = self.expr()
        self.take("}")
        return v

    def atom(self, single_digit: bool = False) -> complex:
        tok = self.take()
        if tok[0].isdigit() or tok[0] == ".":
            if single_digit and len(tok) > 1 and "." not in tok:  # x^23 is x^{2}3 in LaTeX
                self.t[self.i : self.i] = [tok[1:]]
                tok = tok[0]
            return Fraction(tok) if self.exact else complex(float(tok))
        if tok in ("(", "{"):
            v = self.expr()
            self.take(")" if tok == "(" else "}")
            return v
        if tok == "\\frac":
            num = self.group() if self.peek() == "{" else self.atom(single_digit=True)
            den = self.group() if self.peek() == "{" else self.atom(single_digit=True)
            if den == 0:
                raise _Refuse("division by zero")
            return num / den
        if self.exact and (tok in _FUNCS or tok in _CONST or tok == "\\sqrt"):
            raise _Refuse("not exact")
        if tok == "\\sqrt":
            index = 2.0
            if self.peek() == "[":
                self.take("[")
                index = self.expr().real
                self.take("]")
            v = self.group() if self.peek() == "{" else self.atom(single_digit=True)
            return cmath.sqrt(v) if index == 2.0 else v ** (1.0 / index)
        if tok in _FUNCS:
            # \sin^2 x is (\sin x)^2; \sin 5x is \sin(5x): an unbracketed argument runs over
            # the implicit product up to the next operator or function.
            exp = None
            if self.peek() == "^":
                self.take()
                exp = self.atom(single_digit=True)
            if self.peek() in ("(", "{"):
                arg = self.atom()
            else:
                arg = self.power()
                while self.peek() is not None and (
                    self.peek()[0].isalnum()
                    or self.peek() in _GREEK
                    or self.peek() in _CONST
                    or self.peek() in _ATOM_CMDS
                ):
                    arg = arg * self.power()
            try:
                v = _FUNCS[tok](arg)
            except (ValueError, ZeroDivisionError) as e:
                raise _Refuse("domain") from e
            if exp is not None:
                if abs(exp) > MAX_EXPONENT:
                    raise _Refuse("exponent")
                v = v**exp
            return v
        if tok in _CONST and self.peek() != "_":
            return complex(_CONST[tok])
        if (len(tok) == 1 and tok.isalpha()) or tok in _GREEK:
            name = tok
            if self.peek() == "_":
                self.take()
                sub = self.take()
                if sub == "{":
                    sub = "".join(self._until("}"))
                name += "_" + sub
            if name not in self.env:
                raise _Refuse(f"unbound {name}")
            return self.env[name]
        raise _Refuse(f"token {tok!r}")

    def _until(self, end: str) -> list[str]:
        out = []
        while self.peek() not in (end, None):
            out.append(self.take())
        self.take(end)
        return out


_ATOM_CMDS = ("\\frac", "\\sqrt")


def variables(s: str) -> frozenset[str] | None:
    """Names of the free variables, or None when the string has tokens we do not evaluate."""
    toks = _TOKEN.findall(s)
    if not toks or len(toks) > MAX_TOKENS or "".join(toks) != s.replace(" ", ""):
        return None
    names = set()
    for k, tok in enumerate(toks):
        if tok in _GREEK:
            names.add(tok)
        elif (
            len(tok) == 1 and tok.isalpha() and (tok not in _CONST or toks[k + 1 : k + 2] == ["_"])
        ):
            if k > 0 and toks[k - 1] == "_":
                continue  # a subscript, part of the name before it
            name = tok
            if toks[k + 1 : k + 2] == ["_"] and k + 2 < len(toks):
                if toks[k + 2] == "{":
                    end = toks.index("}", k + 2) if "}" in toks[k + 2 :] else len(toks)
                    name += "_" + "".join(toks[k + 3 : end])
                else:
                    name += "_" + toks[k + 2]
            names.add(name)
    return frozenset(names)


def evaluate(s: str, names: frozenset[str] | None = None) -> tuple[complex, ...] | None:
    """Values of the canonical string s at three fixed points of its variables, or None."""
    names = variables(s) if names is None else names
    if names is None:
        return None
    toks = _TOKEN.findall(s)
    out = []
    for p in _POINTS:
        env = {n: complex(p + 0.1 * k) for k, n in enumerate(sorted(names))}
        parser = _Parser(list(toks), env)
        try:
            v = parser.expr()
            if parser.peek() is not None:
                return None
        except (_Refuse, ValueError, OverflowError, ZeroDivisionError):
            return None
        if not (cmath.isfinite(v)):
            return None
        out.append(v)
    return tuple(out)


def _close(x: complex, y: complex) -> bool | None:
    """True (equal to 1e-9), False (differ beyond 1e-6), None (in between, or both ~0)."""
    scale = max(abs(x), abs(y))
    if scale < 1e-10:  # 1/2^98 vs 2/2^98, or a rounding residue vs 0: floats cannot tell
        return True if x == y else None
    diff = abs(x - y) / max(1.0, scale) if scale >= 1 else abs(x - y) / scale
    if diff > 1e-6:
        return False
    return True if diff <= 1e-9 else None


def numeric_verdict(a: str, b: str) -> bool | None:
    """True/False when both evaluate at the same variables and agree/clearly differ, else None."""
    na, nb = variables(a), variables(b)
    if na is None or nb is None:
        return None
    # Over the union of the variables: "x^2" vs "y^2" or "2x" vs "2xy" differ as functions.
    va, vb = evaluate(a, na | nb), evaluate(b, na | nb)
    if va is None or vb is None:
        return None
    verdicts = [_close(x, y) for x, y in zip(va, vb, strict=True)]
    if False in verdicts:
        return False
    return True if all(verdicts) else None


def equation_verdict(a: str, b: str) -> bool | None:
    """Two equations "l1=r1", "l2=r2": equal when l1-r1 is a constant non-zero multiple of
    l2-r2 (y=2x+3 and 2x-y+3=0), different when the ratio clearly varies, else None."""
    (l1, r1), (l2, r2) = a.split("=", 1), b.split("=", 1)
    d1, d2 = f"({l1})-({r1})", f"({l2})-({r2})"
    n1, n2 = variables(d1), variables(d2)
    if n1 is None or n2 is None or n1 != n2 or not n1:
        return None
    v1, v2 = evaluate(d1, n1), evaluate(d2, n2)
    if v1 is None or v2 is None or any(abs(y) < 1e-9 for y in v2):
        return None
    ratios = [x / y for x, y in zip(v1, v2, strict=True)]
    if any(abs(r) < 1e-9 for r in ratios):
        return None
    verdicts = [_close(r, ratios[0]) for r in ratios[1:]]
    if False in verdicts:
        return False
    return True if all(verdicts) else None


def exact_value(s: str) -> Fraction | None:
    """The exact rational value of a variable-free integer expression (2^{10}-1, \\frac{1}{2004!})."""
    toks = _TOKEN.findall(s)
    if not toks or len(toks) > MAX_TOKENS or "".join(toks) != s.replace(" ", ""):
        return None
    parser = _Parser(toks, {}, exact=True)
    try:
        v = parser.expr()
    except (_Refuse, ValueError, OverflowError, ZeroDivisionError, TypeError):
        return None
    return v if parser.peek() is None and isinstance(v, Fraction) else None


def evaluable(s: str) -> bool:
    """s is a scalar expression this evaluator reads (a number, \\pi, \\sqrt{2}, 2x+1, ...)."""
    return evaluate(s) is not None
