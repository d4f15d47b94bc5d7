"""Text at the boundary: what a model, a server or a file hands us is made safe here, once.

    clean_text("a\\x00b\\x1b[31mred\\ud800")   # -> "abred\\ufffd"
    clean_obj({"q": "x\\r\\ny"})               # every string of a JSON value (keys too)
    reply_char_limit(max_tokens=1024)         # the most characters a reply may keep

Everything inside the package can then trust its text: it is valid UTF-8 (a lone surrogate,
which Python strings and JSON escapes allow but UTF-8, SQLite and every JSON encoder in strict
mode refuse, becomes U+FFFD), holds no control bytes but newline and tab (NUL, ANSI escape
sequences, the other C0 and C1 controls and DEL are removed; "\\r\\n" and a lone "\\r" become
"\\n"), and is bounded in size where the boundary knows a bound. Where text enters:
metamath.llm.base (every Completion of every backend and of the cache), metamath.io (every
JSONL/JSON/Parquet row read), and metamath.llm.serve (every HTTP request).
"""

from __future__ import annotations

import re
from typing import Any

# Anything that needs work. A clean string (the common case) costs one regex scan.
_SUSPECT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# ANSI/VT escape sequences (ECMA-48): CSI ("\x1b[31m", also the one-character C1 CSI), OSC
# ("\x1b]0;title\x07"), DCS/SOS/PM/APC strings, and the two-character escapes ("\x1bc").
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|\x1b[ -/]*[0-~]"
)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# How many characters one token can stand for, at most. BPE vocabularies hold tokens of up to
# ~16 characters for text (runs of spaces or dashes in code vocabularies reach more); 32 leaves
# room, so a reply of max_tokens tokens can never legitimately be longer than 32 x max_tokens.
MAX_CHARS_PER_TOKEN = 32
MIN_REPLY_CHARS = 4096


def clean_text(text: str) -> str:
    """Valid UTF-8, no control bytes but "\\n" and "\\t", newlines normalised to "\\n"."""
    if _SUSPECT.search(text) is None:
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ANSI.sub("", text)
    text = _SURROGATE.sub("\ufffd", text)
    return _CONTROL.sub("", text)


def clean_obj(obj: Any) -> Any:
    """clean_text over every string in a JSON value (dict keys included); other values as is."""
    if isinstance(obj, str):
        return clean_text(obj)
    if isinstance(obj, dict):
        return {clean_text(k) if isinstance(k, str) else k: clean_obj(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [clean_obj(v) for v in obj]
    return obj


def reply_char_limit(max_tokens: int) -> int:
    """The most characters a reply of at most `max_tokens` tokens can hold (see
    MAX_CHARS_PER_TOKEN); anything longer is a server that ignored max_tokens."""
    return max(MIN_REPLY_CHARS, MAX_CHARS_PER_TOKEN * max(int(max_tokens), 1))


def decode_utf8(raw: bytes, first: bool = False) -> str:
    """Strict UTF-8 (UnicodeDecodeError on invalid bytes); a BOM at the start of a file
    (`first`) is dropped, as editors on Windows write one."""
    if first and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    return raw.decode("utf-8")
