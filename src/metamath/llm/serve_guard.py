"""The checks `metamath serve` makes before a request reaches the model: size, key, address.

    app.add_middleware(Guard, max_request_bytes=1 << 20, api_key=os.environ.get(KEY_ENV))
    check_bind("0.0.0.0", api_key=None, allow_unauthenticated=False)   # ValueError: refused

Guard is plain ASGI, so it runs before FastAPI reads or parses a body: a request without the
API key (a Bearer token, compared in constant time) gets a 401, and a body over
max_request_bytes a 413, both in the OpenAI error shape, without the body ever being held or
parsed: a declared Content-Length over the limit is drained (read and dropped) and refused, a
chunked body as soon as its count passes the limit. /health stays open
for load balancers and readiness probes.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import socket
from typing import Any

from starlette.exceptions import HTTPException

KEY_ENV = "METAMATH_SERVE_API_KEY"
MAX_REQUEST_BYTES = 1 << 20  # 1 MiB: a few-shot prompt is ~10 KB
MAX_STOP = 16  # stop strings per request (OpenAI allows 4)
MAX_STOP_CHARS = 512  # characters per stop string
_DRAIN = 64 << 20  # an oversized body is read and dropped up to here, so the client sees the 413


def error_body(
    message: str, kind: str = "invalid_request_error", param: str | None = None, code=None
) -> dict[str, Any]:
    """The OpenAI error shape every answer that is not a success has."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class BodyTooLarge(HTTPException):
    """A chunked body that outgrew the limit while it was read. An HTTPException, because
    FastAPI turns any other error raised while it reads a body into a 400."""

    def __init__(self, seen: int, limit: int):
        super().__init__(413, _too_large(seen, limit, at_least=True)["error"]["message"])


class Guard:
    """ASGI middleware: API key, then the request size, before the app sees the request."""

    def __init__(self, app: Any, max_request_bytes: int, api_key: str | None):
        self.app, self.limit, self.key = app, max_request_bytes, api_key

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") == "/health":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.key is not None and not _authorised(headers.get("authorization", ""), self.key):
            await _respond(
                send,
                401,
                error_body(
                    "missing or wrong API key: send the header 'Authorization: Bearer <key>' "
                    "with the key this server was started with",
                    code="invalid_api_key",
                ),
            )
            return
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            await _drain(receive, int(length))  # dropped as it arrives, never held
            await _respond(send, 413, _too_large(int(length), self.limit))
            return
        seen = 0
        started = False

        async def counted() -> dict:
            nonlocal seen
            msg = await receive()
            seen += len(msg.get("body", b""))
            if seen > self.limit:
                raise BodyTooLarge(seen, self.limit)
            return msg

        async def tracked_send(msg: dict) -> None:
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, counted, tracked_send)
        except BodyTooLarge:  # a chunked body that outgrew the limit while it was read
            if not started:
                await _respond(send, 413, _too_large(seen, self.limit, at_least=True))


def _authorised(header: str, key: str) -> bool:
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), key.encode())


def _too_large(size: int, limit: int, at_least: bool = False) -> dict[str, Any]:
    return error_body(
        f"request body of {'over ' if at_least else ''}{size:,} bytes is larger than this "
        f"server's limit of {limit:,} bytes; send a shorter prompt, or start the server with a "
        "larger --max-request-bytes",
        param="body",
        code="request_too_large",
    )


async def _respond(send: Any, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(raw)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})


async def _drain(receive: Any, length: int) -> None:
    """Read and drop the refused body (up to _DRAIN bytes) before answering: a client that
    sends the whole body before reading the answer (most do) gets the 413 instead of a reset
    connection, which is what closing on it early would give."""
    left = min(length, _DRAIN)
    while left > 0:
        msg = await receive()
        if msg["type"] != "http.request":
            return
        left -= len(msg.get("body", b""))
        if not msg.get("more_body"):
            return


def is_loopback(host: str) -> bool:
    """Does binding `host` keep the server on this machine? Names are resolved."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addrs = {a[4][0] for a in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addrs) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addrs)


def check_bind(host: str, api_key: str | None, allow_unauthenticated: bool) -> str | None:
    """None if binding `host` is fine; a warning to print if it is allowed on purpose;
    ValueError if it would open the model to the network without a key."""
    if is_loopback(host):
        return None
    if api_key:
        return (
            f"serving on {host}, reachable from other machines; requests need the API key "
            "(traffic is plain HTTP: put TLS in front of it beyond a trusted network)"
        )
    if allow_unauthenticated:
        return (
            f"WARNING: serving on {host} WITHOUT an API key (--allow-unauthenticated): anyone "
            "who can reach this port can use the model"
        )
    raise ValueError(
        f"--host {host} makes the server reachable from other machines, and it has no API "
        f"key: pass --api-key KEY (or set ${KEY_ENV}), or --allow-unauthenticated to serve "
        "it open on purpose, or bind 127.0.0.1"
    )
