"""Fast canonical forms for answer strings: a LaTeX string canon and exact numbers.

    canon("\\dfrac{1}{2}\\text{ cm}")  -> "\\frac{1}{2}"
    to_number("1,234,567")            -> Fraction(1234567)
    to_number("\\frac{3}{4}")          -> Fraction(3, 4)

The rules extend MetaMath's `strip_string` (util.py; method reference 4.4) with the gaps that
reference lists: thousands commas, `\\text{}` without a space, `\\mbox`, unit words, `\\infty`,
degree variants, "x = 5" with any simple left side. Pure string work, no sympy: this is the fast
path that settles most answers before anything symbolic runs.
"""

from __future__ import annotations

import re
from fractions import Fraction

_TEXT_CMDS = re.compile(
    r"\\(?:text|textbf|textit|textrm|mbox|mathrm|mathbf|operatorname)\s*\{([^{}]*)\}"
)
_SPACING = ("\\,", "\\;", "\\:", "\\ ", "~")  # -> a space; "\\!" (negative space) -> nothing
_REMOVE = (
    "\\left",
    "\\right",
    "\\displaystyle",
    "\\limits",
    "^{\\circ}",
    "^\\circ",
    "{}^\\circ",
    "°",
    "\\circ",
    "\\degree",
    "\\%",
    "%",
    "\\$",
    "$",
)
_REPLACE = (
    ("\\dfrac", "\\frac"),
    ("\\tfrac", "\\frac"),
    ("\\cfrac", "\\frac"),
    ("\\dbinom", "\\binom"),
    ("\\tbinom", "\\binom"),
    ("\\le ", "\\leq "),
    ("\\ge ", "\\geq "),
    ("\\neq", "\\ne"),
    ("−", "-"),
    ("∞", "\\infty"),
    ("\\emptyset", "\\varnothing"),
    ("\\{", "\\lbrace"),
    ("\\}", "\\rbrace"),
    ("\\lbrace", "\\{"),
    ("\\rbrace", "\\}"),
    ("{,}", ","),
    ("\\(", ""),
    ("\\)", ""),
    ("\\[", ""),
    ("\\]", ""),
)
# A unit after a number: "5 cm", "5\text{ cm}", "18 dollars", "90 degrees".
_UNIT_TAIL = re.compile(
    r"^([-+]?[\d.,/]*\d)\s*"
    r"(?:\\(?:text|mbox)\{\s*[a-zA-Z .]*\}|\s[a-zA-Z]{2,}[a-zA-Z .]*)(?:\^\{?[23]\}?)?$"
)
_EXPR_UNIT = re.compile(r"\s*\\(?:text|mbox)\{\s+[a-zA-Z][a-zA-Z .]*\}\s*$")
# A simple left side that "x = 5" style answers put in front: x, y_1, f(x), \\theta (not sums)
_LHS = re.compile(r"^\s*(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?|[a-zA-Z]\([a-z]\)|\\[a-zA-Z]+)\s*$")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_DECIMAL = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)$")
_SCI = re.compile(
    r"^([-+]?(?:\d+\.?\d*|\.\d+))(?:[eE]|\\times10\^|\*10\^|\\cdot10\^)\{?([-+]?\d+)\}?$"
)
_FRAC = re.compile(r"^([-+]?)\\frac\{([-+]?(?:\d+\.?\d*|\.\d+))\}\{([-+]?(?:\d+\.?\d*|\.\d+))\}$")
_SLASH = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+))/([-+]?(?:\d+\.?\d*|\.\d+))$")
_MIXED = re.compile(r"^([-+]?)(\d+)\\frac\{(\d+)\}\{(\d+)\}$")
MAX_EXP = 400  # |exponent| beyond this is no longer a "fast" number (the guard takes over)


# Plain-text math models write: "20sqrt(13)", "100 - 25pi", "2 * sqrt(3) / 3".
_ASCII_SQRT = re.compile(r"(?<![\\A-Za-z])sqrt\s*\(([^()]*)\)")
_ASCII_PI = re.compile(r"(?<![\\A-Za-z])pi(?![A-Za-z])")
# Unit words after an expression that ends in a digit, brace or bracket: "12\sqrt{13} feet".
_WORD_UNITS = re.compile(r"^(.*?[\d}\)])\s+([a-z]{2,}\.?(?:\s+[a-z]{2,}\.?){0,2})$")
# A number, a space and a one-letter unit symbol: "24 m", "5 s" (never "30 n"). Read as the
# number only against a plain number (equiv.py): "3 s" is still "3s" against "3s".
UNIT_LETTER = re.compile(r"^\s*([-+]?[\d.,]*\d)\s+[mgshL]\.?\s*$")


_ROOT_SIGN = re.compile(r"√\s*(\d+(?:\.\d+)?|[a-zA-Z]|\(([^()]*)\)|\{([^{}]*)\})")
_SUPERSCRIPTS = {"²": "^2", "³": "^3", "⁄": "/", "π": "\\pi "}


def _ascii_math(s: str) -> str:
    s = _ASCII_SQRT.sub(lambda m: "\\sqrt{" + m.group(1) + "}", s)
    if "√" in s:  # "2√3", "13/√61", "√(c)"
        s = _ROOT_SIGN.sub(lambda m: "\\sqrt{" + (m.group(2) or m.group(3) or m.group(1)) + "}", s)
    for a, b in _SUPERSCRIPTS.items():
        s = s.replace(a, b)
    return _ASCII_PI.sub(lambda m: "\\pi ", s)


def _drop_unit_words(s: str) -> str:
    m = _WORD_UNITS.match(s)
    # only when the rest has no words of its own ("2 apples and 3 oranges" stays)
    if m and not re.search(r"(?<!\\)\b[A-Za-z]{2,}", m.group(1)):
        return m.group(1)
    return s


def _unwrap_text(s: str) -> str:
    # Trailing \text{...} after a number is a unit; elsewhere \text{X} means X.
    m = _UNIT_TAIL.match(s)
    if m and not re.fullmatch(r"\s*\\text\{\s*\}", s[m.end(1) :]):
        return m.group(1)
    # "\frac{3}{4}\pi\text{ inches}": a \text{ ...} opening with a space is a unit (strip_string)
    s = _EXPR_UNIT.sub("", s) if not _EXPR_UNIT.fullmatch(s) else s
    prev = None
    while prev != s:
        prev, s = s, _TEXT_CMDS.sub(lambda m: m.group(1), s)
    return s


def canon(s: str) -> str:
    """Canonical string form: equal canons mean equal answers (the converse needs equiv)."""
    s = s.strip().replace("\n", " ").rstrip(".").rstrip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if len(s) > len(left) + len(right) and s.startswith(left) and s.endswith(right):
            s = s[len(left) : -len(right)].strip()  # a gold written "$5\\text{ cm}$"
            break
    if s.startswith("\\boxed{") and s.endswith("}"):
        s = s[len("\\boxed{") : -1]
    # Row breaks of matrices survive (as a NUL placeholder); elsewhere "\\\\" is "\\" (strip_string).
    rows = "matrix" in s or "array" in s
    s = s.replace("\\\\", "\x00" if rows else "\\")
    for a, b in _REPLACE:
        s = s.replace(a, b)
    s = re.sub(r",\\!\s*", ",", s)  # "11,\\! 111,\\! 100": LaTeX-spaced thousands groups
    s = s.replace("\\!", "")
    for sp in _SPACING:
        s = s.replace(sp, " ")
    s = s.strip()
    if s.endswith("\\") and not s.endswith("\\\\"):
        s = s[:-1].rstrip()  # "9\\pi\\": a stray backslash before a closing tag
    s = _drop_unit_words(_ascii_math(s))
    s = _unwrap_text(s)
    for r in _REMOVE:
        s = s.replace(r, "")
    s = s.strip().rstrip(".").strip()
    s = _strip_lhs(s)
    s = re.sub(r"\\sqrt(\w)", r"\\sqrt{\1}", s)
    s = re.sub(r"\\frac(\d)(\w)", r"\\frac{\1}{\2}", s)
    s = re.sub(r"\\frac\{([^{}]*)\}(\d)(?![\d.])", r"\\frac{\1}{\2}", s)
    if _THOUSANDS.match(s):  # before spaces go: "1, 234" is a list, "1,234" a number
        s = s.replace(",", "")
    # Spaces go, except the one that ends a command before a letter ("\\tan x" is not "\\tanx").
    s = re.sub(r"(\\[a-zA-Z]+)\s+(?=[a-zA-Z])", "\\1\x01", s).replace(" ", "").replace("\x01", " ")
    s = re.sub(r"(^|[^\d])\.(\d)", r"\g<1>0.\2", s)  # ".5" -> "0.5", "{.5" -> "{0.5"
    s = s.replace("\x00", "\\\\")
    # "(A)" / "A)" answer letters, and "\text{(A)}" after unwrapping
    m = re.fullmatch(r"\(?([A-E])\)", s)
    if m:
        s = m.group(1)
    return s


def _strip_lhs(s: str) -> str:
    """'x = 5' -> '5' when the left side is a simple name (x, y_1, f(x), \\theta) and there is
    one '='. Applied to both sides alike, so 'y = 2x + 3' still matches 'y=2x+3' and '2x+3'."""
    m = re.match(r"^[a-zA-Z]\s*\\in\s*(?=[\[(\\])", s)  # "x \in [-2, 7]"
    if m:
        return s[m.end() :]
    if s.count("=") != 1 or any(op in s for op in ("\\leq", "\\geq", "<", ">")):
        return s
    lhs, rhs = s.split("=")
    return rhs.strip() if _LHS.match(lhs) and rhs.strip() else s


def to_number(s: str) -> Fraction | None:
    """The exact value of a canonical numeric answer, or None when it is not a plain number.

    Handles integers, decimals, thousands groups, a/b, \\frac{a}{b} (signs anywhere), mixed
    numbers 2\\frac{1}{2} (MATH writes these), and scientific notation (1.5e3, 1.5\\times10^{3}).
    """
    if not s or len(s) > 64:
        return None
    if _DECIMAL.match(s):
        return Fraction(s)
    m = _FRAC.match(s)
    if m:
        sign, a, b = m.groups()
    elif (m := _SLASH.match(s)) is not None:
        sign, (a, b) = "", m.groups()
    if m:
        num, den = Fraction(a), Fraction(b)
        if den == 0:
            return None
        val = num / den
        return -val if sign == "-" else val
    m = _MIXED.match(s)
    if m:
        sign, whole, a, b = m.groups()
        if int(b) == 0:
            return None
        val = int(whole) + Fraction(int(a), int(b))
        return -val if sign == "-" else val
    m = _SCI.match(s)
    if m and abs(int(m.group(2))) <= MAX_EXP:
        return Fraction(m.group(1)) * Fraction(10) ** int(m.group(2))
    return None
