"""metamath.llm: one batch-first protocol (`generate(requests) -> results`), backends by name.

    llm = make_llm("openai", "Qwen/Qwen2.5-7B-Instruct", base_url="http://127.0.0.1:8000/v1")
    llm = make_llm("hf", "./tiny")            # transformers in-process, no server
    llm = CachedLLM(llm, "run/cache.sqlite")  # from metamath.llm.cache: re-runs cost nothing

Backends are imported only when asked for, so `import metamath.llm` pulls in neither torch nor a
network client.
"""

from __future__ import annotations

import importlib
from typing import Any

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
    "generate_all",
    "make_llm",
]


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
