"""The `openai` backend: any OpenAI-compatible server (vLLM, SGLang, llama.cpp, TGI, hosted APIs).

    llm = OpenAILLM("Qwen/Qwen2.5-7B-Instruct", base_url="http://10.0.0.5:8000/v1,http://10.0.0.6:8000/v1",
                    max_in_flight=256, rpm=None, tpm=None)
    for res in llm.generate(requests): ...
    llm.stats   # requests, samples, prompt/completion tokens, retries, failures, cost_usd

Chat `messages` go to /chat/completions, a raw `prompt` to /completions. `n` samples ask for n
choices in one request (the prompt is sent once, not n times); a server that answers fewer
choices than asked (e.g. `transformers serve`) is noticed and the missing samples go out as
separate requests (seed + sample index when a seed is set), so callers always get n samples.

Transient errors (429, 408, 409, 5xx, timeouts, dropped connections, malformed bodies) are retried
with exponential backoff and jitter, honouring Retry-After; after `max_retries` the request comes
back with `error` set (never an empty answer). Fatal errors (401/403 key, 404 model, 400 context
length) raise LLMError at once with what to fix: every other request would fail the same way.

Transport: aiohttp, not the official AsyncOpenAI client. Measured here (2 cores, 256 in
flight, loopback): AsyncOpenAI cost 3.6 ms of client CPU per request and bare httpx 1.6-9 ms
(its connection pool scans every connection on each request), aiohttp 0.36 ms; the budget is
1 ms. The wire format is the documented OpenAI REST API (POST /v1/completions and
/v1/chat/completions), and our own retry loop is needed anyway for Retry-After, the fan-out and
per-request error records. HTTP(S)_PROXY / NO_PROXY are read once per server URL.
The API key is read only from the environment (`api_key_env`, default OPENAI_API_KEY); local
servers get "EMPTY" when it is unset. URLs in messages are redacted (a base_url may carry
user:password@ or ?api_key=). A reply body larger than any reply of n x max_tokens could be
(metamath.text.reply_char_limit) is not read whole: the request fails with that reason.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections.abc import Iterator, Sequence
from typing import Any

from metamath.llm._async import parse_retry_after, run_in_thread
from metamath.llm._servers import Servers
from metamath.llm._wire import error_message, parse_choices
from metamath.llm.base import Completion, LLMError, Request, Result
from metamath.llm.progress import Progress
from metamath.secrets import redact_text
from metamath.text import reply_char_limit


class _Exhausted(Exception):
    """A request failed after its bounded retries; `.error` says why."""

    def __init__(self, error: str, retries: int):
        super().__init__(error)
        self.error, self.retries = error, retries


class OpenAILLM:
    """Client for OpenAI-compatible servers; see the module docstring.

    Options: base_url (one URL, a comma-separated string or a list: load goes to the least busy;
    default $OPENAI_BASE_URL, else http://127.0.0.1:8000/v1),
    api_key_env, max_in_flight (HTTP requests in flight, all servers together), rpm / tpm
    (requests / tokens per minute; tokens are estimated as prompt bytes / 4 + n * max_tokens),
    timeout (s per HTTP request), max_retries, backoff_base / backoff_max (s), max_n (most
    choices asked in one request), price_prompt_per_1m / price_completion_per_1m (USD per
    million tokens: adds stats["cost_usd"]), extra_body (merged into every request body, e.g.
    {"top_k": 20} for vLLM), headers (extra HTTP headers, e.g. for a gateway; like extra_body,
    redacted wherever a config is written), progress (None: a bar on terminals only), desc (the bar's label),
    on_bad_request ("raise": a 400 stops the job; "record": that request comes back with the
    error and the job goes on, for large jobs where one prompt may be too long).

    `stats` (totals over the object's life, for stats.json): requests (HTTP requests sent,
    retries included), samples, prompt_tokens, completion_tokens (as the server reports usage),
    retries, failures (Requests answered with an error), fanned_out (samples asked one by one
    because the server ignored n), cost_usd (when prices are set).
    """

    def __init__(
        self,
        model: str,
        base_url: str | Sequence[str] | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        max_in_flight: int = 64,
        rpm: float | None = None,
        tpm: float | None = None,
        timeout: float = 300.0,
        max_retries: int = 6,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        max_n: int = 128,
        price_prompt_per_1m: float | None = None,
        price_completion_per_1m: float | None = None,
        extra_body: dict | None = None,
        headers: dict | None = None,
        progress: bool | None = None,
        desc: str = "openai",
        on_bad_request: str = "raise",
    ):
        if base_url is None:
            base_url = os.environ.get("OPENAI_BASE_URL") or "http://127.0.0.1:8000/v1"
        if on_bad_request not in ("raise", "record"):
            raise ValueError(
                f"on_bad_request={on_bad_request!r}: use 'raise' (stop the job) or "
                "'record' (return that request with its error and go on)"
            )
        if isinstance(base_url, str):
            base_url = [u.strip() for u in base_url.split(",") if u.strip()]
        if not base_url:
            raise ValueError(
                "base_url: give at least one server URL, e.g. http://127.0.0.1:8000/v1"
            )
        if max_in_flight < 1 or max_retries < 0 or max_n < 1:
            raise ValueError(
                f"max_in_flight ({max_in_flight}) and max_n ({max_n}) must be >= 1, "
                f"max_retries ({max_retries}) >= 0"
            )
        self.model, self.base_urls = model, list(base_url)
        self.api_key_env = api_key_env
        self.max_in_flight, self.rpm, self.tpm = max_in_flight, rpm, tpm
        self.timeout, self.max_retries = timeout, max_retries
        self.backoff_base, self.backoff_max, self.max_n = backoff_base, backoff_max, max_n
        self.prices = (price_prompt_per_1m, price_completion_per_1m)
        self.extra_body, self.progress, self.desc = dict(extra_body or {}), progress, desc
        self.headers = {str(k): str(v) for k, v in (headers or {}).items()}
        self.on_bad_request = on_bad_request
        self._honours_n: dict[str, bool] = {}  # learnt per server, kept across generate() calls
        self.stats: dict[str, Any] = {
            "requests": 0,
            "samples": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "retries": 0,
            "failures": 0,
            "fanned_out": 0,
        }
        if any(self.prices):
            self.stats["cost_usd"] = 0.0

    # -- public protocol -------------------------------------------------------------------
    def generate(self, requests: Sequence[Request]) -> Iterator[Result]:
        """Yield a Result per request as each finishes; safe to call inside a running loop."""
        for batch in self.generate_batches(requests):
            yield from batch

    def generate_batches(self, requests: Sequence[Request]) -> Iterator[list[Result]]:
        """Like generate, but yields lists of the Results finished by then, for consumers that
        pay per call (CachedLLM commits each list in one statement)."""
        requests = list(requests)
        if requests:
            yield from run_in_thread(lambda emit: self._run(requests, emit))

    def close(self) -> None:
        pass  # clients live only inside one generate() call

    # -- the async core --------------------------------------------------------------------
    async def _run(self, requests: list[Request], emit) -> None:
        bar = Progress(len(requests), desc=self.desc, enabled=self.progress)
        ctx = Servers(self, bar)
        # Request-level tasks are bounded too, so a 100k-request job does not hold 100k tasks.
        req_slots = asyncio.Semaphore(2 * self.max_in_flight)
        fatal: list[BaseException] = []
        pending = 0
        wake = asyncio.Event()

        async def one(req: Request) -> None:
            nonlocal pending
            try:
                res = await self._answer(req, ctx)
                bar.done(samples=len(res.completions))
                emit(res)
            except Exception as e:  # LLMError (fatal) or a bug: stop the whole job
                fatal.append(e)
            finally:
                req_slots.release()
                pending -= 1
                if pending == 0 or fatal:
                    wake.set()

        tasks: set[asyncio.Task] = set()
        try:
            for req in requests:
                await req_slots.acquire()
                if fatal:
                    break
                pending += 1
                t = asyncio.create_task(one(req))
                tasks.add(t)
                t.add_done_callback(tasks.discard)
            while pending and not fatal:
                wake.clear()
                await wake.wait()
            if fatal:
                raise fatal[0]
        finally:
            for t in list(tasks):
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            bar.close()
            await ctx.close()

    async def _answer(self, req: Request, ctx: Servers) -> Result:
        """All n samples of one request: one call with n choices, fan out what is missing."""
        got: dict[int, Completion] = {}
        retries, errors = 0, []

        async def call(indices: list[int], seed: int | None) -> str | None:
            nonlocal retries
            try:
                comps, r, server = await self._call(req, len(indices), seed, ctx)
            except _Exhausted as e:
                retries += e.retries
                errors.append(e.error)
                return None
            retries += r
            for i, c in zip(indices, comps, strict=False):  # extra choices are ignored
                got[i] = Completion(c[0], i, c[1], c[2], c[3], error=c[4])
            return server

        fan_out = req.n > 1 and all(self._honours_n.get(u) is False for u in self.base_urls)
        if not fan_out:
            head = list(range(min(req.n, self.max_n)))
            url = await call(head, req.seed)
            if url is not None and len(head) > 1:
                self._honours_n[url] = len(got) == len(head)
                fan_out = len(got) < len(head)  # it ignored n: ask for each sample alone
        missing = [i for i in range(req.n) if i not in got]
        if missing and not errors:
            if fan_out:
                self.stats["fanned_out"] += len(missing)
            # Sample i gets seed + i so fanned-out samples differ yet stay reproducible.
            step = 1 if fan_out else self.max_n
            chunks = [missing[k : k + step] for k in range(0, len(missing), step)]
            await asyncio.gather(
                *(call(c, None if req.seed is None else req.seed + c[0]) for c in chunks)
            )
        if errors or len(got) < req.n:
            ctx.bar.failure()
            self.stats["failures"] += 1
            partial = [got[i] for i in sorted(got)]
            return Result(
                req,
                (),
                error=errors[0]
                if errors
                else f"server answered too few choices ({len(got)} of {req.n})",
                retries=retries,
                meta={"partial": partial} if partial else {},
            )
        self.stats["samples"] += req.n
        return Result(req, tuple(got[i] for i in range(req.n)), retries=retries)

    def _body(self, req: Request, n: int, seed: int | None) -> bytes:
        """The JSON body of one /completions or /chat/completions request."""
        body: dict[str, Any] = {
            "model": self.model,
            "n": n,
            "temperature": req.temperature,
            "top_p": req.top_p,
            "max_tokens": req.max_tokens,
        }
        if req.stop:
            body["stop"] = list(req.stop)
        if seed is not None:
            body["seed"] = seed
        body.update(self.extra_body)  # server-specific knobs (vLLM: top_k, min_p, ...)
        if req.messages is not None:
            body["messages"] = list(req.messages)
        else:
            body["prompt"] = req.prompt
        return json.dumps(body, ensure_ascii=False).encode()

    async def _call(self, req: Request, n: int, seed: int | None, ctx: Servers):
        """One HTTP request with bounded, classified retries -> (choices, retries, url)."""
        data = self._body(req, n, seed)
        chat = req.messages is not None
        path = "/chat/completions" if chat else "/completions"
        # The most a sane reply body can hold: n replies of reply_char_limit characters, each
        # JSON-escaped at worst to 6 bytes (\\uXXXX), plus room for the envelope.
        max_body = (1 << 24) + 6 * n * reply_char_limit(req.max_tokens)
        est_tokens = len(data) // 4 + n * req.max_tokens  # a conservative guess for the TPM limit
        last = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.stats["retries"] += 1
                ctx.bar.retry()
            await ctx.limits(est_tokens)
            url = ctx.pick()
            self.stats["requests"] += 1
            status, headers, raw, error = await ctx.post(url, path, data, max_body)
            shown, last, wait = redact_text(url), error or last, None
            if status == 200 and len(raw) > max_body:
                raise _Exhausted(
                    f"reply from {shown} is over {max_body:,} bytes, more than {n} replies of "
                    f"max_tokens={req.max_tokens} can hold: the server ignored max_tokens",
                    attempt,
                )
            if status == 200:
                try:
                    doc = json.loads(raw)
                    choices = parse_choices(doc, chat)
                except (ValueError, TypeError, KeyError, AttributeError) as e:
                    # A 200 with a body we cannot read (truncated JSON, no choices): transient.
                    last = f"malformed response from {shown}: {type(e).__name__}: {e}"[:300]
                else:
                    return self._usage(doc, choices, ctx.bar), attempt, url
            elif status in (408, 409, 429) or status >= 500:
                last = f"HTTP {status} from {shown}: {error_message(raw)}"
                wait = parse_retry_after(headers)
            elif status == 400 and self.on_bad_request == "record":
                # This request's own fault (too long, ...): no retry, recorded, the job goes on.
                raise _Exhausted(str(self._fatal(status, error_message(raw), shown, req)), attempt)
            elif status:  # any other 4xx: every request would fail the same way
                raise self._fatal(status, error_message(raw), shown, req)
            if attempt < self.max_retries:
                backoff = min(self.backoff_max, self.backoff_base * 2**attempt)
                # Honour Retry-After (plus up to 20% jitter); else full-jitter exponential backoff.
                delay = wait * random.uniform(1.0, 1.2) if wait else random.uniform(0, backoff)
                await asyncio.sleep(delay)
        raise _Exhausted(f"{last} (gave up after {self.max_retries} retries)", self.max_retries)

    def _usage(self, doc: dict, choices: list, bar: Progress) -> list[tuple]:
        """(text, finish_reason, prompt_tokens, completion_tokens, error) per choice of a
        reply, its usage counted."""
        usage = doc.get("usage") or {}
        p_tok = int(usage.get("prompt_tokens") or 0)
        c_tok = int(usage.get("completion_tokens") or 0)
        self._account(p_tok, c_tok, bar)
        # Usage is per request: the prompt goes to the first choice, completion tokens are
        # split evenly (servers do not report them per choice).
        per, rest = divmod(c_tok, max(len(choices), 1))
        return [
            (t, f, p_tok if k == 0 else 0, per + (rest if k == 0 else 0), err)
            for k, (t, f, err) in enumerate(choices)
        ]

    def _account(self, p_tok: int, c_tok: int, bar: Progress) -> None:
        self.stats["prompt_tokens"] += p_tok
        self.stats["completion_tokens"] += c_tok
        bar.tokens(p_tok, c_tok)
        pp, pc = self.prices
        if pp or pc:
            self.stats["cost_usd"] += (p_tok * (pp or 0) + c_tok * (pc or 0)) / 1e6

    def _fatal(self, status: int, msg: str, url: str, req: Request) -> LLMError:
        if status in (401, 403):
            where = (
                "is unset, so 'EMPTY' was sent"
                if not os.environ.get(self.api_key_env)
                else "was rejected"
            )
            fix = f"the API key from ${self.api_key_env} {where}: export a valid key in it"
        elif status == 404:
            fix = (
                f"model {self.model!r} or the endpoint is unknown at {url}: check the model "
                "name the server serves (GET /v1/models) and that base_url ends in /v1"
            )
        elif "context" in msg.lower() or "maximum" in msg.lower():
            fix = (
                f"request {req.id!r}: prompt + max_tokens exceed the model's context length: "
                f"lower max_tokens (now {req.max_tokens}) or shorten the prompt"
            )
        else:
            fix = f"request {req.id!r} was rejected: check the sampling parameters"
        return LLMError(redact_text(f"HTTP {status} from {url}: {msg} -- {fix}"))
