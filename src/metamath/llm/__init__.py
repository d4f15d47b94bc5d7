"""metamath.llm: one batch-first protocol (`generate(requests) -> results`), backends by name.

    llm = metamath.llm.open(cfg.teacher, "run/cache.sqlite")  # the one way a stage gets an LLM
    llm = make_llm("openai", "Qwen/Qwen2.5-7B-Instruct", base_url="http://127.0.0.1:8000/v1")
    llm = make_llm("hf", "./tiny")            # transformers in-process, no server

`open(spec, cache)` builds the backend a spec names (anything with `backend`, `model` and
`options`: augment's teacher, an EvalConfig, an LLMSpec) and wraps it in the response cache
(metamath.llm.cache: re-runs cost nothing).

Backends are imported only when asked for, so `import metamath.llm` pulls in neither torch nor a
network client.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from metamath.llm.base import LLM, Completion, LLMError, Request, Result, cache_key, generate_all

# short name -> (module, class); the class takes (model: str, **options)
BACKENDS: dict[str, tuple[str, str]] = {
    "openai": ("metamath.llm.openai_compat", "OpenAILLM"),
    "hf": ("metamath.llm.hf", "HFLLM"),
    "vllm": ("metamath.llm.vllm", "VLLMLLM"),
}

__all__ = [
    "BACKENDS",
    "LLM",
    "Completion",
    "LLMError",
    "Request",
    "Result",
    "cache_key",
    "LLMSpec",
    "generate_all",
    "make_llm",
    "open",
]


class Spec(Protocol):
    """What names an LLM: augment's TeacherConfig, EvalConfig and LLMSpec all have these."""

    backend: str
    model: str
    options: dict[str, Any]


@dataclass(frozen=True)
class LLMSpec:
    backend: str
    model: str
    options: dict[str, Any] = field(default_factory=dict)


def open(  # noqa: A001 - metamath.llm.open, as the issue and the docs name it
    spec: Spec,
    cache: str | Path | None = None,
    *,
    llm: LLM | None = None,
    **defaults: Any,
) -> LLM:
    """The LLM a spec names, wrapped in the SQLite response cache at `cache` (None: no cache).

    `defaults` are backend options the caller sets unless spec.options says otherwise (eval
    turns the backend's own progress bar off this way). `llm`: a model the caller built and
    keeps (a training run's live model, a scripted teacher): it is wrapped in the cache, and
    closing what this returns leaves it open."""
    if llm is None:
        llm = make_llm(spec.backend, spec.model, **{**defaults, **spec.options})
    else:
        llm = _Borrowed(llm)
    if cache is None:
        return llm
    from metamath.llm.cache import CachedLLM

    return CachedLLM(llm, Path(cache))


class _Borrowed:
    """A caller's LLM, not closed with what open() returns (CachedLLM.close() closes what it
    wraps): a caller's model must outlive the run (it may evaluate the next checkpoint)."""

    def __init__(self, llm: Any):
        self.llm, self.model = llm, llm.model

    def generate(self, requests: Any) -> Any:
        return self.llm.generate(requests)

    @property
    def stats(self) -> dict[str, Any]:
        return dict(getattr(self.llm, "stats", {}) or {})

    def close(self) -> None:
        pass


def make_llm(backend: str, model: str, **options: Any) -> LLM:
    """Build the backend named `backend` ("openai" | "hf" | "vllm") for `model`.

    `options` go to the backend's constructor (e.g. base_url, max_in_flight for openai;
    batch_size for hf); an unknown option is a TypeError that names it.
    """
    if backend not in BACKENDS:
        raise ValueError(
            f"backend {backend!r} is not one of {sorted(BACKENDS)}: set backend to "
            "'openai' (any OpenAI-compatible server), 'hf' (in-process "
            "transformers) or 'vllm' (in-process vLLM)"
        )
    if not model:
        raise ValueError(f"model is empty: give the model name or path for backend {backend!r}")
    module, cls_name = BACKENDS[backend]
    cls = getattr(importlib.import_module(module), cls_name)
    try:
        return cls(model, **options)
    except TypeError as e:
        if "unexpected keyword" in str(e):
            raise TypeError(
                f"backend {backend!r}: {e}; see {module}.{cls_name} for the options it takes"
            ) from None
        raise
