"""The OpenAI REST wire format, the parts the openai backend reads: choices, error messages,
and the proxy for a URL. Plain functions over bytes and dicts, so they are easy to test."""

from __future__ import annotations

import json
from typing import Any


def proxy_for(url: str) -> str | None:
    """The proxy from the environment for this URL (aiohttp's trust_env re-reads it on every
    request in a worker thread, which alone cost ~0.3 ms of CPU per request)."""
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return urllib.request.getproxies().get(parts.scheme)


def error_message(raw: bytes) -> str:
    """The server's error message (OpenAI shape {"error": {"message": ...}}), else the body."""
    try:
        doc = json.loads(raw)
        err = doc.get("error", doc) if isinstance(doc, dict) else doc
        if isinstance(err, dict) and (err.get("message") or err.get("detail")):
            return str(err.get("message") or err.get("detail"))[:300]
        if isinstance(doc, dict) and doc.get("detail"):  # FastAPI-style servers
            return str(doc["detail"])[:300]
    except ValueError:
        pass
    return raw.decode("utf-8", "replace")[:300]


def parse_choices(resp: Any, chat: bool) -> list[tuple[str, str]]:
    """(text, finish_reason) per choice, in the server's index order; ValueError if malformed."""
    if not isinstance(resp, dict) or not resp.get("choices"):
        raise ValueError("response has no choices")
    out = []
    for c in sorted(resp["choices"], key=lambda c: c.get("index") or 0):
        text = c["message"].get("content") if chat else c.get("text")
        if not isinstance(text, str):
            raise ValueError("choice without text")
        out.append((text, c.get("finish_reason") or "stop"))
    return out
