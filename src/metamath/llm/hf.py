"""`hf` backend: transformers in-process on CPU or GPU, the embedded default that needs no server.

    llm = HFLLM("./tiny")                      # or a Hub id, a checkpoint, a .gguf file
    for res in llm.generate([Request(id="q", prompt="...", n=4, temperature=0.7, seed=1)]): ...

How it batches: every (request, sample) becomes one row; rows are grouped by sampling parameters,
sorted by prompt length (longest first, so an out-of-memory shows up on the first batch) and cut into
batches under a row cap and a KV-token budget. Prompts are left-padded (decoder-only generation
appends on the right). A batch that runs out of memory is halved and retried, and the smaller size
is kept for the rest of the run. A Result is yielded as soon as all its rows are done.

Sampling: rows are sampled with the Gumbel-max trick, using noise from a counter-based hash of
(seed, sample index, step, token id) rather than a shared torch RNG. So a seeded request gives the
same text whatever batch it lands in, and sample i of n is the same whether n is 1 or 8 (the hash
needs no per-row torch.Generator, which would cost one kernel launch per row per step on a GPU).
temperature == 0 is greedy; n greedy samples are one row copied n times.

Shared prefix: the rows of a batch with the same prompt (the n samples of a request, or equal
prompts) prefill it once; each row decodes from a copy of that KV cache (`share_prefix=False` turns
this off). So AnsAug's k=10 costs one prefill of the prompt plus one token per sample, not ten
prefills, and the samples are the same token for token (tests/test_llm_hf.py counts the tokens).

Paths: each group of rows (same sampling parameters) is generated with a static KV cache, the
dynamic cache, or transformers' continuous batching (greedy only, metamath.llm._continuous);
choose_path decides, and the choice and its reason are logged and kept in `paths`.

On CUDA: bf16, SDPA attention, and a static KV cache that transformers' generate() compiles with
torch.compile (`compile=False` turns that off). `static_cache=None` (auto) uses it on CUDA for a
group of at least STATIC_MIN_ROWS rows, where compiling (~30 s more on the first run at 7B) pays for itself; small
calls (a server's bursts) keep the dynamic cache. Measured with benchmarks/eval_throughput.py on
one H200 (1,319 GSM8K prompts, 256 new tokens, random weights): 8,231 new tokens/s at the
LLaMA-2-7B shape vs 1,007 for plain generate() at batch 64 (8.2x; 4,570 on the first, compiling
run), 14,337 vs 1,138 at 1.1B (12.6x). Sampling (t=0.7, top-p 0.95, n=4) ran as fast as greedy
(14,320 at 1.1B); the dynamic cache with the same sorted batches gave 6,029 at 1.1B.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from metamath.llm.base import Completion, LLMError, Request, Result
from metamath.llm.hf_batch import (
    Row,
    completion,
    free_memory,
    generate_batch,
    is_oom,
    reusable,
    round_up,
    row_key,
    static_cache,
)
from metamath.llm.progress import Progress

STATIC_MIN_ROWS = 128  # auto static cache: rows in a group (same sampling parameters)


class HFLLM:
    """transformers in-process. Options: device ("auto"|"cuda"|"cpu"|...), dtype ("auto"|"bfloat16"|
    "float16"|"float32"), batch_size (rows per batch), max_batch_tokens (KV tokens per batch; auto
    from free GPU memory), static_cache (True/False; None = auto, see the module doc), share_prefix
    (samples of one prompt prefill it once; False: each row prefills its own copy), continuous
    (greedy groups through transformers' continuous batching: True/False; None = auto, see
    choose_path), compile,
    attn_implementation, progress, desc (progress bar label), trust_remote_code."""

    def __init__(
        self,
        model: str,
        *,
        device: str = "auto",
        dtype: str = "auto",
        batch_size: int | None = None,
        max_batch_tokens: int | None = None,
        static_cache: bool | None = None,
        share_prefix: bool = True,
        continuous: bool | None = None,
        compile: bool = True,
        attn_implementation: str | None = "sdpa",
        progress: bool | None = None,
        desc: str = "hf",
        trust_remote_code: bool = False,
        _objects: tuple[Any, Any] | None = None,
    ):
        import torch

        self.model = str(model)
        dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        if dtype == "auto":
            dtype = "bfloat16" if dev.startswith("cuda") else "float32"
        if _objects is not None:
            self.hf_model, self.tokenizer = _objects
        else:
            self.hf_model, self.tokenizer = _load(
                self.model, dev, getattr(torch, dtype), attn_implementation, trust_remote_code
            )
        self.hf_model.eval()
        self.device = self.hf_model.device
        tok = self.tokenizer
        if tok.pad_token_id is None:  # Llama-style tokenizers ship without one; pad rows are masked
            tok.pad_token = tok.eos_token
        eos = self.hf_model.generation_config.eos_token_id
        eos = tok.eos_token_id if eos is None else eos
        self.eos_ids = {eos} if isinstance(eos, int) else set(eos)
        self.batch_size = batch_size or (256 if self.device.type == "cuda" else 16)
        self.max_batch_tokens = max_batch_tokens or self._token_budget()
        self.static_cache, self.compile = static_cache, compile
        self.share_prefix, self.continuous = share_prefix, continuous
        self.paths: list[tuple[str, str]] = []  # (path, why) of each group generated, in order
        self._cache: Any = None  # the static KV cache, kept across batches and calls
        self.progress, self.desc = progress, desc
        self.max_positions = getattr(self.hf_model.config, "max_position_embeddings", None)
        self._max_chars: int | None = None  # the prompt length check, computed on first use

    @classmethod
    def from_objects(
        cls, model_obj: Any, tokenizer: Any, name: str = "in-memory", **options: Any
    ) -> HFLLM:
        """Wrap an already loaded model and tokenizer (benchmarks with random weights, notebooks)."""
        return cls(name, _objects=(model_obj, tokenizer), **options)

    def _token_budget(self) -> int | None:
        """KV-cache tokens that fit in 80% of free GPU memory (None on CPU: rows cap the batch)."""
        import torch

        if self.device.type != "cuda":
            return None
        cfg = self.hf_model.config
        heads = getattr(cfg, "num_key_value_heads", None) or cfg.num_attention_heads
        head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        per_token = 2 * cfg.num_hidden_layers * heads * head_dim * self.hf_model.dtype.itemsize
        free, _ = torch.cuda.mem_get_info(self.device)
        return max(1024, int(0.8 * free / per_token))

    def close(self) -> None:
        self.hf_model = self._cache = None

    # -- prompts ---------------------------------------------------------------------------
    def _check_chars(self, request: Request) -> None:
        """LLMError if the prompt has more characters than max_positions tokens can hold
        (2 x positions x the longest vocabulary entry; see metamath.train.lengths.precheck_lengths)."""
        if not self.max_positions:
            return
        if self._max_chars is None:
            vocab = self.tokenizer.get_vocab() if hasattr(self.tokenizer, "get_vocab") else {}
            self._max_chars = 2 * self.max_positions * (max(map(len, vocab), default=0) or 64)
        text = request.prompt or ""
        if request.messages is not None:
            text_len = sum(len(str(m.get("content") or "")) for m in request.messages)
        else:
            text_len = len(text)
        if text_len > self._max_chars:
            raise LLMError(
                f"request {request.id!r}: the prompt has {text_len:,} characters, more than "
                f"the model's {self.max_positions} positions can hold (checked before "
                "tokenising); shorten the prompt"
            )

    def encode(self, request: Request) -> list[int]:
        tok = self.tokenizer
        if request.messages is None:
            return tok(request.prompt, add_special_tokens=True)["input_ids"]
        if not getattr(tok, "chat_template", None):
            raise LLMError(
                f"request {request.id!r} has messages but model {self.model!r} has no "
                "chat template: send a raw prompt, or use a tokenizer with chat_template"
            )
        text = tok.apply_chat_template(
            list(request.messages), add_generation_prompt=True, tokenize=False
        )
        return tok(text, add_special_tokens=False)["input_ids"]  # the template holds any BOS

    # -- generation ------------------------------------------------------------------------
    def generate(self, requests: Sequence[Request]) -> Iterator[Result]:
        requests = list(requests)
        pending: dict[int, int] = {}
        done: dict[int, list[Completion]] = defaultdict(list)
        groups: dict[tuple, list[Row]] = defaultdict(list)
        errors: list[Result] = []
        for i, r in enumerate(requests):
            try:
                self._check_chars(r)  # before tokenising: a 20 MB prompt is refused at once
                ids = self.encode(r)
                if self.max_positions and len(ids) + r.max_tokens > self.max_positions:
                    raise LLMError(
                        f"request {r.id!r}: prompt ({len(ids)} tokens) + max_tokens "
                        f"({r.max_tokens}) exceeds the model's {self.max_positions} "
                        "positions: lower max_tokens or shorten the prompt"
                    )
            except LLMError as e:
                errors.append(Result(r, error=str(e), meta={"error_type": "invalid_request"}))
                continue
            greedy = r.temperature == 0
            seed = secrets.randbits(63) if r.seed is None else r.seed
            rows = [
                Row(i, k, ids, None if greedy else row_key(seed, k))
                for k in range(1 if greedy else r.n)
            ]
            pending[i] = len(rows)
            groups[(r.temperature, r.top_p, r.max_tokens, r.stop)].extend(rows)
        bar = Progress(len(requests), desc=self.desc, enabled=self.progress)
        bar.sent(len(pending))
        for res in errors:
            bar.failure()
            bar.done()
            yield res
        try:
            for params, rows in groups.items():
                rows.sort(key=lambda row: -len(row.ids))
                for batch, outs in self._run_group(rows, *params):
                    for row, out in zip(batch, outs, strict=True):
                        if isinstance(out, BaseException):
                            r = requests[row.req]
                            if pending.pop(row.req, None) is not None:
                                bar.failure()
                                bar.done()
                                yield Result(r, error=f"{type(out).__name__}: {out}")
                            continue
                        if row.req not in pending:
                            continue  # an earlier row of this request already failed
                        done[row.req].append(out)
                        pending[row.req] -= 1
                        if pending[row.req] == 0:
                            del pending[row.req]
                            res = self._result(requests[row.req], done.pop(row.req))
                            bar.tokens(
                                res.completions[0].prompt_tokens,
                                sum(c.completion_tokens for c in res.completions),
                            )
                            bar.done(samples=len(res.completions))
                            yield res
        finally:
            bar.close()

    def _result(self, r: Request, outs: list[Completion]) -> Result:
        if r.temperature == 0 and r.n > 1:  # greedy: one row stands for all n samples
            outs = [replace(outs[0], index=k) for k in range(r.n)]
        return Result(r, completions=tuple(sorted(outs, key=lambda c: c.index)))

    def _batches(self, rows: list[Row], max_new: int, static: bool) -> Iterator[list[Row]]:
        start = 0
        while start < len(rows):
            # rows are sorted longest first; a static cache is sized for the longest of the group
            width = len(rows[0 if static else start].ids) + max_new
            cap = self.batch_size
            if self.max_batch_tokens:
                cap = max(1, min(cap, self.max_batch_tokens // width))
            if static:  # equal batches: every new shape is a torch.compile recompile
                left = len(rows) - start
                cap = -(-left // -(-left // cap))
            yield rows[start : start + cap]
            start += cap

    def choose_path(self, rows: int, temperature: float) -> tuple[str, str]:
        """How a group of `rows` rows is generated, and why: "continuous" (transformers'
        continuous batching, greedy only), "static" (static KV cache, compiled on CUDA) or
        "dynamic". Measured on CPU (benchmarks/eval_throughput.py --cpu): continuous batching ran
        at 0.88x the batched path on SmolLM2-135M and 0.13x on the tiny model (per CPU second; its
        SDPA attention is dense over every row in flight), so auto uses it only on CUDA with a
        flash-attention model, its paged kernel (not yet measured on a GPU)."""
        cuda = self.device.type == "cuda"
        many = rows >= STATIC_MIN_ROWS
        if temperature == 0:
            if self.continuous:
                return "continuous", "continuous=True"
            if self.continuous is None and cuda and many and _flash(self.hf_model):
                return "continuous", f"auto: CUDA, flash attention, {rows} rows"
        note = "; sampled rows keep the keyed noise" if temperature > 0 and self.continuous else ""
        if self.static_cache is not None:
            path = "static" if self.static_cache else "dynamic"
            return path, f"static_cache={self.static_cache}{note}"
        if cuda and many:
            return "static", f"auto: CUDA, {rows} rows >= {STATIC_MIN_ROWS}{note}"
        where = f"{rows} rows < {STATIC_MIN_ROWS}" if cuda else self.device.type
        return "dynamic", f"auto: {where}{note}"

    def _run_group(self, rows, temperature, top_p, max_tokens, stop):
        path, why = self.choose_path(len(rows), temperature)
        self.paths.append((path, why))
        logging.getLogger(__name__).info(
            "hf: %d rows, t=%s: %s (%s)", len(rows), temperature, path, why
        )
        if path == "continuous":
            yield from self._run_continuous(rows, max_tokens, stop)
            return
        static = path == "static"
        cache_len = round_up(len(rows[0].ids), 32) + max_tokens
        shape = 0  # static cache: short batches are padded to this many rows (same compiled graph)
        for batch in self._batches(rows, max_tokens, static):
            queue = [batch]
            while queue:
                part = queue.pop(0)
                shape = max(shape, len(part)) if static else 0
                padded = part + [part[-1]] * (shape - len(part))
                try:
                    # One StaticCache, reset between batches and generate() calls: its tensors keep
                    # their addresses, so the compiled, CUDA-graphed decode step is not recompiled
                    # or re-recorded, and an old cache never lingers beside a new one.
                    if static and reusable(self._cache, len(padded), cache_len):
                        self._cache.reset()
                    elif static:
                        self._cache = None
                        free_memory()
                        self._cache = static_cache(self.hf_model, cache_len)
                    outs = self._generate_batch(
                        padded,
                        temperature,
                        top_p,
                        max_tokens,
                        stop,
                        self._cache if static else None,
                    )
                    yield part, outs[: len(part)]
                except Exception as e:
                    if not is_oom(e):
                        raise
                    self._cache = None
                    free_memory()
                    if len(part) == 1:
                        yield part, [e]
                        continue
                    half = (len(part) + 1) // 2
                    self.batch_size = shape = min(self.batch_size, half)  # keep the size that fits
                    queue[:0] = [part[:half], part[half:]]

    _generate_batch = generate_batch  # one batch (metamath.llm.hf_batch); tests replace it

    def _run_continuous(self, rows: list[Row], max_tokens: int, stop: tuple[str, ...]):
        """Greedy rows through continuous batching, in chunks of a few times the rows decoding at
        once, so results (and the cache of a resumable run) come as chunks finish."""
        from metamath.llm._continuous import cut_at_stop, generate_continuous

        width = len(rows[0].ids) + max_tokens  # rows are sorted longest first
        live = self.batch_size
        if self.max_batch_tokens:
            live = max(1, min(live, self.max_batch_tokens // width))
        decode = self.tokenizer.decode
        for start in range(0, len(rows), 8 * live):
            part = rows[start : start + 8 * live]
            gens = generate_continuous(
                self.hf_model,
                [r.ids for r in part],
                max_tokens,
                sorted(self.eos_ids),
                self.tokenizer.pad_token_id,
                live,
            )
            yield (
                part,
                [
                    completion(self, r, cut_at_stop(g, stop, decode), max_tokens, stop)
                    for r, g in zip(part, gens, strict=True)
                ],
            )


def _load(name: str, device: str, dtype: Any, attn: str | None, trust: bool):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from metamath.models import resolve_model

    path = resolve_model(name)  # a Hub id, a directory, or a .gguf file's converted checkpoint
    tok = AutoTokenizer.from_pretrained(path, trust_remote_code=trust)
    kw = {"attn_implementation": attn} if attn else {}
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, trust_remote_code=trust, **kw)
    return model.to(device), tok


def _flash(model: Any) -> bool:
    """The model runs a flash-attention kernel (continuous batching's paged fast path)."""
    return "flash" in str(getattr(model.config, "_attn_implementation", ""))
