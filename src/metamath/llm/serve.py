"""Serve any in-process LLM (the hf backend by default) over the OpenAI HTTP protocol.

    metamath serve ./my-checkpoint --port 8000        # then: backend openai, base_url .../v1

FastAPI + uvicorn rather than `transformers serve`, because the latter ignores `n` (checked against
transformers 5.x), and the MetaMath recipes sample k answers per question. Endpoints:
/v1/completions and /v1/chat/completions (n, stop, max_tokens, temperature, top_p, seed; usage),
/v1/models, /health. Completion prompts may be token ids (see ids_to_text). No streaming and no logprobs: requests asking for them get a 400.

Every answer that is not a success has the OpenAI error shape {"error": {"message", "type",
"param", "code"}}: invalid JSON, a malformed field (a content part whose text is not a string,
`prompt: []`), an unknown route, a server fault. Before a body is parsed, metamath.llm.
serve_guard checks the API key (when one is set) and the request size (max_request_bytes); stop
strings are capped (max_stop); prompt and message text go through metamath.text.clean_text.

Concurrent HTTP requests are gathered into batches by metamath.llm.batcher.Batcher (one worker
thread, the only one that touches the model).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from metamath.llm.base import LLM, Request, Result
from metamath.llm.batcher import Batcher
from metamath.llm.serve_guard import (
    MAX_REQUEST_BYTES,
    MAX_STOP,
    MAX_STOP_CHARS,
    Guard,
    error_body,
)
from metamath.text import clean_text


class _Sampling(BaseModel):
    """Fields common to both endpoints; unknown OpenAI fields (user, logit_bias, ...) are ignored."""

    model_config = ConfigDict(extra="ignore")
    model: str
    n: int = Field(1, ge=1, le=1024)
    max_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(1.0, ge=0.0, le=2.0)  # OpenAI's default temperature is 1
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool = False

    def stops(self) -> list[str]:
        stop = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        return [clean_text(s) for s in stop if s]

    def to_request(self, rid: str, **fields: Any) -> Request:
        return Request(
            id=rid,
            n=self.n,
            temperature=self.temperature,
            top_p=self.top_p,
            stop=tuple(self.stops()),
            seed=self.seed,
            **fields,
        )


class CompletionBody(_Sampling):
    # Text, texts, token ids or lists of token ids: the OpenAI protocol allows all four, and
    # lm-evaluation-harness's local-completions client sends token ids by default. A list needs
    # one prompt (or one token) or more.
    prompt: (
        str
        | Annotated[list[str], Field(min_length=1)]
        | Annotated[list[int], Field(min_length=1)]
        | Annotated[list[list[int]], Field(min_length=1)]
    )

    def prompts(self) -> list[str | list[int]]:
        p = self.prompt
        if isinstance(p, str) or (p and isinstance(p[0], int)):
            return [p]  # type: ignore[list-item]
        return list(p)  # type: ignore[arg-type]


class TextPart(BaseModel):
    """A content part; only text parts can be served by a text model."""

    model_config = ConfigDict(extra="ignore")
    type: str = "text"
    text: str = ""


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: str = "user"
    content: str | list[TextPart] | None = None


def _tokenizer(llm: Any) -> Any:
    """The engine's tokenizer: hf's own, or vLLM's."""
    tok = getattr(llm, "tokenizer", None)
    engine = getattr(llm, "engine", None)
    if tok is None and engine is not None and hasattr(engine, "get_tokenizer"):
        tok = engine.get_tokenizer()
    return tok


def ids_to_text(tok: Any, ids: list[int]) -> str:
    """The text that the engine, which takes text prompts, tokenises back to exactly `ids`.

    The engines tokenise a text prompt with the tokenizer's special tokens (a BOS where the
    tokenizer adds one), so ids that start with those tokens are taken as they are, and ids
    without them get them, as a text prompt would. Ids that do not survive decoding and
    re-encoding (a non-canonical split of a word) are refused rather than silently changed."""
    if tok is None:
        raise ValueError("token-id prompts need an engine with a tokenizer; send text")
    if not ids:
        raise ValueError("an empty token-id prompt")
    bad = [t for t in ids if not 0 <= t < len(tok)]
    if bad:
        raise ValueError(f"token id {bad[0]} is outside the vocabulary (0..{len(tok) - 1})")
    framing = tok("", add_special_tokens=True)["input_ids"]  # e.g. [bos], or [] for ChatML
    body = ids[len(framing) :] if framing and ids[: len(framing)] == framing else ids
    text = tok.decode(body, skip_special_tokens=False, clean_up_tokenization_spaces=False)
    if tok(text, add_special_tokens=True)["input_ids"] != framing + body:
        raise ValueError(
            "these token ids do not come back from decoding and re-encoding with the model's "
            "tokenizer (not its own split of the text); send the prompt as text"
        )
    return text


class ChatBody(_Sampling):
    messages: list[Message] = Field(min_length=1)
    max_completion_tokens: int | None = Field(None, ge=1)

    def plain_messages(self) -> list[dict[str, str]]:
        """Content parts ([{"type": "text", "text": ...}]) joined into plain strings."""
        out = []
        for i, m in enumerate(self.messages):
            content = m.content or ""
            if isinstance(content, list):
                other = [p.type for p in content if p.type != "text"]
                if other:
                    raise ValueError(
                        f"messages.{i}.content: part type {other[0]!r} is not supported; "
                        "this server takes text parts only"
                    )
                content = "".join(p.text for p in content)
            out.append({"role": m.role, "content": clean_text(content)})
        return out


def _error(
    status: int, message: str, kind: str = "invalid_request_error", param: str | None = None
):
    from fastapi.responses import JSONResponse

    return JSONResponse(status_code=status, content=error_body(message, kind, param))


class _Service:
    """What the endpoints do, apart from FastAPI's wiring (build_app)."""

    def __init__(self, llm: LLM, name: str, default_max_tokens: int, max_stop: int):
        self.llm, self.name = llm, name
        self.default_max_tokens, self.max_stop = default_max_tokens, max_stop
        self.batcher: Batcher | None = None  # started with the app (its lifespan)

    async def models(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": self.name, "object": "model", "created": 0, "owned_by": "metamath"}],
        }

    def _refusal(self, body: Any) -> Any:
        """The error response for a request this server does not take, else None."""
        if body.model not in (self.name, self.llm.model):
            return _error(
                404,
                f"model {body.model!r} is not served here; this server "
                f"serves {self.name!r} (see /v1/models)",
                "not_found_error",
                "model",
            )
        if body.stream:
            return _error(400, "stream=true is not supported by metamath serve", param="stream")
        stops = body.stops()
        if len(stops) > self.max_stop or any(len(s) > MAX_STOP_CHARS for s in stops):
            return _error(
                400,
                f"stop: at most {self.max_stop} stop strings of at most {MAX_STOP_CHARS} "
                f"characters each (got {len(stops)}, the longest {max(map(len, stops))} "
                "characters)",
                param="stop",
            )
        return None

    async def run(self, body: Any, reqs: list[Request]) -> tuple[list[Result] | None, Any]:
        """(results, None), or (None, the error response)."""
        refused = self._refusal(body)
        if refused is not None:
            return None, refused
        futs = [asyncio.wrap_future(self.batcher.submit(r)) for r in reqs]
        try:
            results = await asyncio.gather(*futs)
        except Exception as e:  # the engine failed on the whole batch
            return None, _error(500, f"{type(e).__name__}: {e}", "server_error")
        for res in results:
            if not res.ok:
                status = 400 if res.meta.get("error_type") == "invalid_request" else 500
                kind = "invalid_request_error" if status == 400 else "server_error"
                return None, _error(status, res.error, kind)
        return results, None

    async def completions(self, body: CompletionBody) -> Any:
        prompts = body.prompts()
        for i, p in enumerate(prompts):
            if isinstance(p, str):
                prompts[i] = clean_text(p)
                continue
            try:
                prompts[i] = ids_to_text(_tokenizer(self.llm), p)
            except ValueError as e:
                return _error(400, f"prompt {i}: {e}", param="prompt")
        rid = f"cmpl-{uuid.uuid4().hex}"
        max_tokens = body.max_tokens or 16  # OpenAI's default for /completions
        reqs = [
            body.to_request(f"{rid}-{i}", prompt=p, max_tokens=max_tokens)
            for i, p in enumerate(prompts)
        ]
        results, err = await self.run(body, reqs)
        if err is not None:
            return err
        choices = [
            {
                "index": i * body.n + c.index,
                "text": c.text,
                "logprobs": None,
                "finish_reason": c.finish_reason,
            }
            for i, r in enumerate(results)
            for c in r.completions
        ]
        return self._reply(rid, "text_completion", choices, results)

    async def chat(self, body: ChatBody) -> Any:
        rid = f"chatcmpl-{uuid.uuid4().hex}"
        max_tokens = body.max_completion_tokens or body.max_tokens or self.default_max_tokens
        try:
            messages = tuple(body.plain_messages())
        except ValueError as e:
            return _error(400, str(e), param="messages")
        req = body.to_request(rid, messages=messages, max_tokens=max_tokens)
        results, err = await self.run(body, [req])
        if err is not None:
            return err
        choices = [
            {
                "index": c.index,
                "message": {"role": "assistant", "content": c.text},
                "logprobs": None,
                "finish_reason": c.finish_reason,
            }
            for c in results[0].completions
        ]
        return self._reply(rid, "chat.completion", choices, results)

    def _reply(self, rid: str, kind: str, choices: list, results: list[Result]) -> dict:
        p = sum(r.completions[0].prompt_tokens for r in results)
        c = sum(x.completion_tokens for r in results for x in r.completions)
        return {
            "id": rid,
            "object": kind,
            "created": int(time.time()),
            "model": self.name,
            "choices": choices,
            "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
        }


def _error_handlers(app: Any) -> None:
    """Every answer that is not a success has the OpenAI error shape."""
    from fastapi import Request as HTTPRequest
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: HTTPRequest, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            at = first.get("loc", ("body", "?"))[-1]
            return _error(
                400,
                f"the request body is not valid JSON (error at character {at}: "
                f"{first.get('ctx', {}).get('error', first.get('msg'))})",
                param="body",
            )
        loc = ".".join(str(x) for x in first.get("loc", ())[1:])
        return _error(400, f"{loc}: {first.get('msg', 'invalid request')}", param=loc or None)

    @app.exception_handler(HTTPException)
    async def _http(_req: HTTPRequest, exc: HTTPException):  # 404 route, 405 method, ...
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return _error(exc.status_code, str(exc.detail), kind)

    @app.exception_handler(Exception)
    async def _crash(_req: HTTPRequest, exc: Exception):  # a bug: no traceback to the client
        return _error(500, f"internal error ({type(exc).__name__})", "server_error")


def build_app(
    llm: LLM,
    served_name: str | None = None,
    *,
    max_batch: int = 256,
    batch_wait_s: float = 0.01,
    default_max_tokens: int = 512,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    max_stop: int = MAX_STOP,
    api_key: str | None = None,
):
    """A FastAPI app serving `llm` under `served_name` (default: llm.model); requests over
    max_request_bytes, or without `api_key` as a Bearer token when one is set, are refused
    before their body is read."""
    from fastapi import FastAPI

    svc = _Service(llm, served_name or llm.model, default_max_tokens, max_stop)

    @asynccontextmanager
    async def lifespan(app):
        svc.batcher = Batcher(llm, max_batch, batch_wait_s)
        yield
        svc.batcher.close()

    app = FastAPI(title="metamath serve", lifespan=lifespan)
    app.add_middleware(Guard, max_request_bytes=max_request_bytes, api_key=api_key or None)
    _error_handlers(app)

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    @app.get("/v1/models")
    async def models():
        return await svc.models()

    @app.post("/v1/completions")
    async def completions(body: CompletionBody):
        return await svc.completions(body)

    @app.post("/v1/chat/completions")
    async def chat(body: ChatBody):
        return await svc.chat(body)

    return app


@contextmanager
def serve_in_thread(app, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run `app` with uvicorn in a background thread; yields the base URL (".../v1").
    port=0 picks a free port (the socket is bound here, so there is no race for it)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"metamath serve did not start on {host}:{port}")
            time.sleep(0.02)
        bound = sock.getsockname()[1]
        yield f"http://{'[' + host + ']' if ':' in host else host}:{bound}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
