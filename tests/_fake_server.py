"""A loopback OpenAI-compatible server that injects faults on request, for tests and benchmarks.

    srv = FakeServer(latency=0.05).start()      # thread with its own event loop, free port
    srv.base_url                                 # "http://127.0.0.1:PORT/v1"
    srv.received                                 # every request body it got, in order
    srv.stop()

    python tests/_fake_server.py --latency 0.2   # as a process: prints "PORT <n>" when ready

Faults are scripted by markers in the prompt (or the last chat message), so a test states what
happens to each request: "[429x2]" answers 429 (Retry-After: 1) to the first two attempts,
"[500x1]" one 500, "[hangx1]" sleeps past any client timeout, "[dropx1]" closes the connection
without answering, "[badjsonx1]" sends a 200 with a malformed body; without "xN" the fault is
permanent. "[400ctx]" is a context-length 400. A model not in `models` gets a 404, a wrong key a
401. `ignore_n=True` answers one choice whatever n says (like `transformers serve`).
`choices=fn` scripts the replies instead: fn(body, chat, n) -> the list of choice objects sent
(anything JSON can carry: null content, lone surrogates, control bytes, megabytes of text).

Hand-written on asyncio streams (not FastAPI) on purpose: a test needs to drop connections and
send broken bodies, and the benchmark needs a server whose own CPU cost stays out of the way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import threading
import time
from typing import Any

_FAULT = re.compile(r"\[(429|500|hang|drop|badjson|400ctx)(?:x(\d+))?\]")
_STATUS_TEXT = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


class FakeServer:
    def __init__(
        self,
        latency: float = 0.0,
        ignore_n: bool = False,
        models: tuple[str, ...] = (),
        api_key: str | None = None,
        retry_after: str = "1",
        port: int = 0,
        choices=None,
    ):
        self.latency, self.ignore_n, self.models = latency, ignore_n, set(models)
        self.api_key, self.retry_after, self.port = api_key, retry_after, port
        self.choices = choices
        self.received: list[dict[str, Any]] = []  # {"t", "path", "body"} per request, in order
        self._hits: dict[str, int] = {}
        self.prompt_tokens = 0  # prompt tokens received, over every request (answered or not)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[asyncio.Task] = set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- lifecycle ---------------------------------------------------------------------------
    async def serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def start(self) -> FakeServer:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            loop.run_until_complete(self.serve())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-openai", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return

        def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            for t in list(self._conns):
                t.cancel()
            self._loop.call_later(0.05, self._loop.stop)

        self._loop.call_soon_threadsafe(shutdown)
        if self._thread:
            self._thread.join(5)

    # -- HTTP --------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._conns.add(task)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers = {}
                while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", 0) or 0))
                reply = await self._respond(method, path, headers, body)
                if reply is None:  # "drop": close without a word
                    writer.transport.abort()
                    return
                status, extra, payload = reply
                head = [
                    f"HTTP/1.1 {status} {_STATUS_TEXT.get(status, 'X')}",
                    "content-type: application/json",
                    f"content-length: {len(payload)}",
                    *(f"{k}: {v}" for k, v in extra.items()),
                ]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        except asyncio.CancelledError:
            writer.transport.abort()
            raise
        finally:
            self._conns.discard(task)
            writer.close()

    async def _respond(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes] | None:
        if method == "GET" and path.rstrip("/").endswith("/models"):
            return (
                200,
                {},
                json.dumps(
                    {
                        "object": "list",
                        "data": [
                            {"id": m, "object": "model"} for m in sorted(self.models) or ["fake"]
                        ],
                    }
                ).encode(),
            )
        if method == "GET" and path.rstrip("/").endswith("/stats"):  # for the benchmark
            return (
                200,
                {},
                json.dumps(
                    {"requests": len(self.received), "prompt_tokens": self.prompt_tokens}
                ).encode(),
            )
        body = json.loads(raw or b"{}")
        self.received.append({"t": time.monotonic(), "path": path, "body": body})
        if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided", "invalid_api_key")
        if self.models and body.get("model") not in self.models:
            return _error(404, f"The model `{body.get('model')}` does not exist", "model_not_found")
        chat = path.rstrip("/").endswith("/chat/completions")
        prompt = body["messages"][-1]["content"] if chat else body.get("prompt", "")
        text_in = " ".join(m["content"] for m in body["messages"]) if chat else prompt
        self.prompt_tokens += len(text_in.split()) + 1
        fault = self._fault(prompt)
        if self.latency:
            await asyncio.sleep(self.latency)
        if fault == "429":
            return _error(
                429, "Rate limit reached", "rate_limit_exceeded", {"retry-after": self.retry_after}
            )
        if fault == "500":
            return _error(500, "The server had an error", "server_error")
        if fault == "hang":
            await asyncio.sleep(3600)
        if fault == "drop":
            return None
        if fault == "badjson":
            return 200, {}, b'{"id": "x", "choices": [{"text": "trunc'
        if fault == "400ctx":
            return _error(
                400,
                "This model's maximum context length is 2048 tokens. However, "
                "you requested 4096 tokens.",
                "context_length_exceeded",
            )
        n = 1 if self.ignore_n else int(body.get("n") or 1)
        seed = body.get("seed")
        texts = [f"answer {i} seed {seed} to: {prompt[-60:]}" for i in range(n)]
        choices = [
            (
                {"index": i, "message": {"role": "assistant", "content": t}}
                if chat
                else {"index": i, "text": t}
            )
            | {"finish_reason": "stop"}
            for i, t in enumerate(texts)
        ]
        if self.choices is not None:
            choices = self.choices(body, chat, n)
            texts = [""]
        p_tok = len(text_in.split()) + 1
        c_tok = sum(len(t.split()) for t in texts)
        doc = {
            "id": f"cmpl-{len(self.received)}",
            "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()),
            "model": body.get("model"),
            "choices": choices,
            "usage": {
                "prompt_tokens": p_tok,
                "completion_tokens": c_tok,
                "total_tokens": p_tok + c_tok,
            },
        }
        return 200, {}, json.dumps(doc).encode()

    def _fault(self, prompt: str) -> str | None:
        m = _FAULT.search(prompt or "")
        if not m:
            return None
        kind, times = m.group(1), m.group(2)
        hits = self._hits.get(prompt, 0) + 1
        self._hits[prompt] = hits
        return kind if times is None or hits <= int(times) else None


def _error(
    status: int, message: str, code: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    return status, headers or {}, json.dumps(body).encode()


def main() -> None:
    ap = argparse.ArgumentParser(description="Fault-injecting OpenAI-compatible test server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--ignore-n", action="store_true")
    args = ap.parse_args()

    async def run() -> None:
        srv = FakeServer(latency=args.latency, ignore_n=args.ignore_n, port=args.port)
        await srv.serve()
        print(f"PORT {srv.port}", flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
