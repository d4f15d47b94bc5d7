"""The one LLM protocol every backend implements: batch-first `generate(requests) -> results`.

    req = Request(id="q1", prompt="Question: ...", n=4, temperature=0.7, max_tokens=512)
    for res in llm.generate([req, ...]):       # results stream back as they finish
        res.completions[i].text, res.error

A Request carries a raw `prompt` or chat `messages` (exactly one). `n` samples come back in one
Result, each a Completion with its sample `index`. A request that could not be answered after
bounded retries comes back with `error` set and no completions: it is never an empty answer.
One sample the server answered without text (a `null` content choice) is a failed sample:
`Completion.error` says why, `finish_reason` is "error", and the other samples are kept.

This is the boundary for model text: every Completion's text, whichever backend (or the cache)
built it, goes through metamath.text.clean_text, and a Result cuts a reply longer than its
request's max_tokens could produce (metamath.text.reply_char_limit) and marks it "length".
Error messages are redacted (metamath.secrets), since they can quote a URL with credentials.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

from metamath.secrets import redact_text
from metamath.text import clean_text, reply_char_limit


@dataclass(frozen=True)
class Request:
    id: str  # the caller's key (e.g. "gsm8k/train/12/answer_aug"); echoed back in the Result
    prompt: str | None = None
    messages: tuple[dict[str, str], ...] | None = None
    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 512
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError(f"request {self.id!r}: give exactly one of prompt or messages")
        if self.n < 1:
            raise ValueError(f"request {self.id!r}: n must be >= 1, got {self.n}")
        if isinstance(self.messages, list):
            object.__setattr__(self, "messages", tuple(self.messages))
        if isinstance(self.stop, list):
            object.__setattr__(self, "stop", tuple(self.stop))

    def sampling_key(self) -> dict[str, Any]:
        """Everything that determines the output distribution, except the model."""
        return {
            "prompt": self.prompt,
            "messages": list(self.messages or []) or None,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "stop": list(self.stop),
            "seed": self.seed,
        }


def cache_key(model: str, request: Request, index: int) -> str:
    """Stable hash of (model, prompt/messages, sampling parameters, seed, sample index)."""
    doc = {"model": model, "index": index, **request.sampling_key()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class Completion:
    text: str
    index: int = 0  # sample index within the request (0..n-1)
    finish_reason: str = "stop"  # "stop" | "length" | "error" (no text: see `error`)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    error: str | None = None  # why this one sample has no text (e.g. content null)

    def __post_init__(self) -> None:
        text = self.text
        if not isinstance(text, str):  # a null / non-string choice: a failed sample
            got = "null" if text is None else type(text).__name__
            object.__setattr__(self, "error", self.error or f"the reply has no text ({got})")
            text = ""
        if self.error is not None:
            object.__setattr__(self, "finish_reason", "error")
            object.__setattr__(self, "error", redact_text(clean_text(str(self.error)))[:500])
        object.__setattr__(self, "text", clean_text(text))

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Result:
    request: Request
    completions: tuple[Completion, ...] = ()
    error: str | None = None  # set when the request could not be answered; then no completions
    retries: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        limit = reply_char_limit(self.request.max_tokens)
        if any(len(c.text) > limit for c in self.completions):
            # A reply longer than max_tokens allows: the server ignored it. Keep what a
            # max_tokens reply could hold and call it cut off, as it is.
            cut = tuple(
                replace(c, text=c.text[:limit], finish_reason="length")
                if len(c.text) > limit
                else c
                for c in self.completions
            )
            object.__setattr__(self, "completions", cut)
        if self.error is not None:
            object.__setattr__(self, "error", redact_text(clean_text(str(self.error))))

    @property
    def ok(self) -> bool:
        return self.error is None


@runtime_checkable
class LLM(Protocol):
    """What every backend provides. `model` names the weights (used in cache keys)."""

    model: str

    def generate(self, requests: Sequence[Request]) -> Iterator[Result]:
        """Answer every request, yielding Results as they complete (any order)."""
        ...

    def close(self) -> None: ...


class LLMError(RuntimeError):
    """A fatal backend error (bad key, unknown model, context too long): fix the config."""


def generate_all(llm: LLM, requests: Iterable[Request]) -> dict[str, Result]:
    """Convenience: run requests and return results keyed by request id."""
    reqs = list(requests)
    return {r.request.id: r for r in llm.generate(reqs)}
