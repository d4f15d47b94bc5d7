"""A MATH answer span -> the answer a reader takes from it (LaTeX kept as written).

    clean_latex("$\\frac{1}{2}$ because 1 + 1 = 2.")          -> "\\frac{1}{2}"
    clean_latex("2 \\times 1.5 = 3")                            -> "3"
    math_sentence("Hence, the degree of $f$ is 3.")             -> ("3", True)
    math_sentence("The square root of 64 is 8, and the cube root of 64 is 4.") -> (None, True)

A span that is a sentence (two words of prose or more) states: its one value (math spans and
numbers; a one-letter span such as $f$ names something); else the value after its last '='; else
the one value right after a copula ("is 3", "equals $\\frac12$"); else nothing a reader could
single out (ambiguous: no answer, and nothing guesses one).
"""

from __future__ import annotations

import re

from metamath.answers.boxed import last_boxed
from metamath.answers.markers import ALTERNATIVE, _math_block, sentence_end

_DELIMS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))
_WORD = re.compile(r"(?<![\\A-Za-z])[a-z]{3,}\b")
# A word of prose; plain-text math ("12sqrt(13)", "2 pi", "log 5") is not prose.
_PROSE_WORD = re.compile(
    r"(?<![\\A-Za-z])(?!(?:sqrt|pi|sin|cos|tan|log|ln|exp)\b)[A-Za-z][a-z]{2,}\b"
)
# Prose after a math answer: two words in a row, or a connective ("12 because 5 + 7 = 12").
_PROSE_RUN = re.compile(
    r"\s+(?:(?:[A-Za-z]{2,}[,;:]?\s+)+[A-Za-z]{2,}\b"
    r"|(?:because|since|which|where|as|so|but|therefore|thus|hence|when)\b)",
    re.IGNORECASE,
)


def _is_prose(ans: str) -> bool:
    """A sentence rather than an answer: 4+ lowercase words and no math at all."""
    return not re.search(r"[\\$^_{}=\d]", ans) and len(_WORD.findall(ans)) >= 4


def _mask_groups(s: str) -> str:
    """s with everything inside braces and $...$ blanked (same length): prose rules then see
    only the top level, never a \\text{...} unit or a math span."""
    out, depth, in_math = [], 0, False
    for j, c in enumerate(s):
        if c == "$" and (j == 0 or s[j - 1] != "\\"):
            in_math = not in_math
        elif c == "{":
            depth += 1
        elif c == "}" and depth > 0:
            depth -= 1
            out.append(c)
            continue
        out.append("_" if (depth or in_math) and c not in "{$" else c)
    return "".join(out)


def _strip_delims(seg: str) -> str:
    for left, right in _DELIMS:
        if seg.startswith(left) and seg.endswith(right) and len(seg) >= len(left) + len(right):
            return seg[len(left) : len(seg) - len(right)].strip()
    return seg


def _top_level(s: str, chars: str) -> list[int]:
    """Indices of '=' (relations such as <= excluded) or ',' outside braces and brackets."""
    out, depth = [], 0
    for m in re.finditer(r"[{}()\[\]]|(?<![<>!\\])=(?!=)|,", s):
        c = m.group(0)
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif depth == 0 and c in chars:
            out.append(m.start())
    return out


def _chain_result(seg: str) -> str:
    """'2 \\times 1.5 = 3' -> '3'; 'a = b = c' -> 'c'. An equation with variables on its left
    ('y = 2x + 3'), two representations ('0.56 = 56\\%') and lists ('AB=9, CD=4') stay."""
    eqs = _top_level(seg, "=")
    if not eqs or _top_level(seg, ","):
        return seg
    rhs = seg[eqs[-1] + 1 :].strip()
    lhs = seg[: eqs[0]].strip().lstrip("-+")
    computed = re.search(r"[-+*/^]|\\(?:times|cdot|div|frac|dfrac)", lhs)
    plain = re.sub(r"\\(?:[dt]?frac|times|cdot|div|left|right|sqrt)", "", lhs)
    if rhs and (len(eqs) >= 2 or (computed and not re.search(r"[A-Za-z]", plain))):
        return rhs
    return seg


def clean_latex(seg: str) -> str | None:
    """A MATH answer span -> the answer: inner \\boxed{} content if any (an empty box states
    nothing), math delimiters, trailing prose and the final period off, a chain's result."""
    if "\\boxed" in seg or "\\fbox" in seg:
        boxed = last_boxed(seg)
        if boxed is not None:
            if not boxed:
                return None
            seg = boxed
    seg = seg.strip().replace("**", "").strip()
    end = _math_block(seg, 0, len(seg)) if seg[:1] in ("$", "\\") else None
    if end is not None:  # "$\frac{1}{2}$ because ...": the answer is the math span it opens with
        seg = _strip_delims(seg[:end])
    else:
        seg = seg[: sentence_end(seg)]
        m = _PROSE_RUN.search(_mask_groups(seg))
        if (
            m is not None
            and re.search(r"[\d\\^_{}]", seg[: m.start()])
            and not ALTERNATIVE.match(seg[m.start() :])  # "30 apples or 12 pears": kept whole
        ):
            seg = seg[: m.start()]  # "12 because we add them": prose after a math answer
        seg = _strip_delims(seg.strip())
    while seg.endswith((".", "。")) and not seg.endswith(".."):
        seg = seg[:-1].rstrip()
    if seg.replace("\\$", "").count("$") == 1:  # "5$" left over from "$5$ dollars."
        seg = seg.replace("\\$", "\x00").replace("$", "").replace("\x00", "\\$").strip()
    seg = _chain_result(seg.strip())
    return seg or None


_SPAN = re.compile(
    r"\$\$(.+?)\$\$|(?<!\\)\$((?:[^$\\]|\\.)+)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL
)
_NUMBER = re.compile(r"(?<![\w.\\^_/])(?<![\^_]\{)[-+]?\d+(?:[.,]\d+)*(?:/\d+)?(?![\w^_])")
# $f$, $x_1$, $\theta$, $AB$, $\overline{AB}$, $\angle ABC$: names of things, not values
_NAME = re.compile(r"[A-Za-z](?:_\{?\w+\}?)?|[A-Z]{2,3}|\\[a-zA-Z]+(?:\s*\{?[A-Z]{1,3}\}?)?")
_COPULA = re.compile(r"\b(?:is|are|was|were|be|equals|equal\s+to)\s+", re.IGNORECASE)
_CLOSERS = re.compile(r"(?:\s*(?:\$\$|\$|\\\]|\\\)|\\end\{[a-z*]+\}|[.,;]))+\s*$")
_CONNECTIVE = re.compile(
    r"\s*[,;:]?\s*(?:because|since|as|so|which|where|when|therefore|thus|hence)\b", re.IGNORECASE
)


def _candidates(s: str) -> list[tuple[int, str]]:
    """(start, value) of the math spans (not names) and the numbers outside them."""
    out, last = [], 0
    for m in _SPAN.finditer(s):
        out += [(last + n.start(), n.group()) for n in _NUMBER.finditer(s[last : m.start()])]
        inner = next(g for g in m.groups() if g is not None).strip()
        if inner and not _NAME.fullmatch(inner):
            out.append((m.start(), inner))
        last = m.end()
    out += [(last + n.start(), n.group()) for n in _NUMBER.finditer(s[last:])]
    return out


def _sentences(s: str) -> list[str]:
    """Sentences, with every line a boundary except inside display math (\\[...\\], $$...$$,
    \\begin...\\end), which stays one piece."""
    pieces: list[str] = []
    block: list[str] = []
    depth = 0
    for line in s.split("\n"):
        depth += line.count("\\[") - line.count("\\]") + line.count("\\begin{")
        depth -= line.count("\\end{")
        depth += line.count("$$") % 2 if not depth else -(line.count("$$") % 2)
        block.append(line)
        if depth <= 0:
            pieces.append("\n".join(block))
            block, depth = [], 0
    pieces.append("\n".join(block))
    out = []
    for piece in pieces:
        while piece.strip():
            end = sentence_end(piece)
            out.append(piece[: end + 1])
            piece = piece[end + 1 :]
    return out


def opens_sentence(span: str) -> bool:
    """The span opens with a math span that is the subject of a sentence naming more math
    ("$32$ has to be multiplied by 2, i.e. $2^8$"), not an answer followed by its reason."""
    s = span.strip()
    end = _math_block(s, 0, len(s)) if s[:1] in ("$", "\\") else None
    if end is None:
        return False
    rest = s[end : end + sentence_end(s[end:])]
    return (
        len(_PROSE_WORD.findall(rest)) >= 2
        and _candidates(rest) != []
        and not _CONNECTIVE.match(rest)
    )


def math_sentence(span: str) -> tuple[str | None, bool]:
    """(answer, stated) of a MATH span that is a sentence: see the module doc."""
    from metamath.answers.normalize import canon  # normalize imports nothing from here

    with_math = [x for x in _sentences(span) if _candidates(x)]
    if not with_math:
        return None, False
    sentence = with_math[-1]
    cands = _candidates(sentence)
    if len({canon(v) for _, v in cands}) == 1:
        return clean_latex(cands[0][1]), True
    eqs = _top_level(sentence, "=")
    if eqs:  # "3! = 6 possible arrangements", "$\sqrt{242} = ... = 11\sqrt{2}$."
        tail = _CLOSERS.sub("", sentence[eqs[-1] + 1 :])  # "... = 50 \\text{ yards}\n\\]."
        return clean_latex(tail), True
    after = {m.end() for m in _COPULA.finditer(sentence)}  # "is 3", "is $\\frac12$"
    picked = [v for start, v in cands if start in after]
    if len({canon(v) for v in picked}) == 1:
        return clean_latex(picked[0]), True
    return None, True  # several values, none singled out: ambiguous
