"""`vllm` backend: vLLM in-process (`vllm.LLM`), the recommended engine on GPU machines with vLLM.

    pip install "metamath[vllm]"
    llm = VLLMLLM("meta-llama/Llama-2-7b-hf")          # tensor parallel over all visible GPUs

vLLM does the scheduling (continuous batching, paged KV cache, prefix caching of shared few-shot
prompts); this class only maps Requests to SamplingParams and RequestOutputs back to Results.
Requests go to the engine in chunks of `chunk_size`, so Results stream back to the caller (who
writes them to disk, making long runs resumable) without draining the engine too often.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from metamath.llm.base import Completion, LLMError, Request, Result
from metamath.llm.progress import Progress

INSTALL = (
    'vLLM is not installed: pip install "metamath[vllm]" (or pip install vllm) on a CUDA machine'
)


def sampling_kwargs(request: Request) -> dict[str, Any]:
    """The vllm.SamplingParams arguments for a Request (kept separate so it is testable anywhere)."""
    return {
        "n": request.n,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_tokens,
        "stop": list(request.stop) or None,
        "seed": request.seed,
    }


def visible_gpus() -> int:
    try:
        import torch

        return max(1, torch.cuda.device_count())
    except ImportError:
        return 1


class VLLMLLM:
    """vllm.LLM in-process. `tensor_parallel_size` defaults to the visible GPU count; other
    keyword options (gpu_memory_utilization, max_model_len, enable_prefix_caching, ...) go to
    vllm.LLM unchanged."""

    def __init__(
        self,
        model: str,
        *,
        tensor_parallel_size: int | None = None,
        dtype: str = "auto",
        seed: int = 0,
        chunk_size: int = 2048,
        progress: bool | None = None,
        desc: str = "vllm",
        **engine_kwargs: Any,
    ):
        try:
            import vllm
        except ImportError as e:
            raise ImportError(INSTALL) from e
        self.model = str(model)
        self.chunk_size, self.progress, self.desc = chunk_size, progress, desc
        self._vllm = vllm
        from metamath.models import resolve_model

        self.engine = vllm.LLM(
            model=resolve_model(self.model),  # a .gguf file: its converted HF checkpoint
            dtype=dtype,
            seed=seed,
            tensor_parallel_size=tensor_parallel_size or visible_gpus(),
            **engine_kwargs,
        )

    def close(self) -> None:
        self.engine = None

    def generate(self, requests: Sequence[Request]) -> Iterator[Result]:
        requests = list(requests)
        bar = Progress(len(requests), desc=self.desc, enabled=self.progress)
        try:
            # raw prompts and chats go through different vLLM entry points
            for chats in (False, True):
                todo = [r for r in requests if (r.messages is not None) == chats]
                for start in range(0, len(todo), self.chunk_size):
                    chunk = todo[start : start + self.chunk_size]
                    bar.sent(len(chunk))
                    for res in self._run(chunk, chats):
                        if res.ok:
                            bar.tokens(
                                res.completions[0].prompt_tokens,
                                sum(c.completion_tokens for c in res.completions),
                            )
                        else:
                            bar.failure()
                        bar.done(samples=len(res.completions))
                        yield res
        finally:
            bar.close()

    def _run(self, chunk: list[Request], chats: bool) -> list[Result]:
        params = [self._vllm.SamplingParams(**sampling_kwargs(r)) for r in chunk]
        if chats:
            outs = self.engine.chat(
                [list(r.messages) for r in chunk],
                params,
                use_tqdm=False,
                add_generation_prompt=True,
            )
        else:
            outs = self.engine.generate([r.prompt for r in chunk], params, use_tqdm=False)
        if len(outs) != len(chunk):
            raise LLMError(f"vLLM returned {len(outs)} outputs for {len(chunk)} requests")
        return [to_result(r, o) for r, o in zip(chunk, outs, strict=True)]


def to_result(request: Request, out: Any) -> Result:
    """A vllm RequestOutput -> Result (finish_reason "abort" or missing outputs are errors)."""
    comps = []
    prompt_tokens = len(out.prompt_token_ids or ())
    for o in out.outputs:
        if o.finish_reason not in ("stop", "length"):
            return Result(request, error=f"vLLM finished sample {o.index} with {o.finish_reason!r}")
        comps.append(
            Completion(
                text=o.text,
                index=o.index,
                finish_reason=o.finish_reason,
                prompt_tokens=prompt_tokens,
                completion_tokens=len(o.token_ids),
            )
        )
    if len(comps) != request.n:
        return Result(request, error=f"vLLM returned {len(comps)} of {request.n} samples")
    return Result(request, completions=tuple(sorted(comps, key=lambda c: c.index)))
