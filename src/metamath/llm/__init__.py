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
    "check_options",
    "OptionError",
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


class OptionError(ValueError, TypeError):
    """A backend option its constructor does not take: a ValueError for the CLI's clean error
    line, and still the TypeError Python raises for an unexpected keyword."""


def check_options(backend: str, options: dict[str, Any], key: str, cls: Any = None) -> str:
    """The backend's constructor takes every option given, checked before anything is created
    (eval and augment call this under --dry-run too): an unknown option is a ValueError naming
    the key, the closest option and every option there is (an OptionError). `cls`: a class other than the named
    backend's (augment's scripted teacher). Returns the line --dry-run prints."""
    import difflib
    import inspect

    if cls is None:
        if backend not in BACKENDS:
            raise ValueError(f"backend {backend!r} is not one of {sorted(BACKENDS)}")
        module, cls_name = BACKENDS[backend]
        cls = getattr(importlib.import_module(module), cls_name)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]  # self
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return f"{key}: {sorted(options)} (not checked: {cls.__name__} takes any option)"
    names = [p.name for p in params if p.kind is not inspect.Parameter.VAR_POSITIONAL]
    names = names[1:] if names and names[0] in ("model", "seeds") else names  # the positional
    public = [n for n in names if not n.startswith("_")]  # _name: for code, not configs
    for k in options:
        if k not in names:
            close = difflib.get_close_matches(k, public, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise OptionError(
                f"{key}.{k}: backend {backend!r} has no option {k!r}; {hint}"
                f"its options: {', '.join(public)}"
            )
    return f"{key}: {', '.join(sorted(options)) or '(none)'} (options of backend {backend!r})"


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
    check_options(backend, options, "options", cls=cls)  # an unknown one: an OptionError
    return cls(model, **options)
