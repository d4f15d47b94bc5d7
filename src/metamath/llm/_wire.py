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


def parse_choices(resp: Any, chat: bool) -> list[tuple[str, str, str | None]]:
    """(text, finish_reason, error) per choice, in the server's index order; ValueError if the
    body has no choices at all. A choice without text (content null: a refusal, a tool call,
    a filter) is a failed sample with its error, not the loss of the other choices."""
    if not isinstance(resp, dict) or not isinstance(resp.get("choices"), list):
        raise ValueError("response has no choices")
    if not resp["choices"]:
        raise ValueError("response has no choices")
    out = []
    for c in sorted(resp["choices"], key=_index):
        if not isinstance(c, dict):
            out.append(("", "error", f"choice is {type(c).__name__}, not an object"))
            continue
        msg = c.get("message") if chat else c
        text = msg.get("content") if chat and isinstance(msg, dict) else c.get("text")
        finish = c.get("finish_reason")
        finish = finish if isinstance(finish, str) and finish else "stop"
        if isinstance(text, str):
            out.append((text, finish, None))
            continue
        why = "null" if text is None else type(text).__name__
        extra = ""
        if chat and isinstance(msg, dict):
            if msg.get("refusal"):
                extra = f"; refusal: {str(msg['refusal'])[:200]}"
            elif msg.get("tool_calls"):
                extra = "; it made a tool call instead"
        out.append(("", "error", f"the server sent no text for this sample ({why}{extra})"))
    return out


def _index(c: Any) -> int:
    i = c.get("index") if isinstance(c, dict) else None
    return i if isinstance(i, int) and not isinstance(i, bool) else 0


def endpoint(base_url: str, path: str) -> str:
    """base_url + path, keeping a query string where it belongs (".../v1?api-version=x")."""
    import urllib.parse

    parts = urllib.parse.urlsplit(base_url)
    return urllib.parse.urlunsplit(parts._replace(path=parts.path.rstrip("/") + path))


def split_credentials(base_url: str, key: str) -> tuple[str, dict[str, str]]:
    """(URL without user info, the Authorization header for it): Basic auth from a URL's
    user:password@, else `key` as a Bearer token."""
    import base64
    import urllib.parse

    parts = urllib.parse.urlsplit(base_url)
    if parts.username is None and parts.password is None:
        return base_url, {"Authorization": f"Bearer {key}"}
    user = urllib.parse.unquote(parts.username or "")
    password = urllib.parse.unquote(parts.password or "")
    host = parts.netloc.rsplit("@", 1)[1]
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return urllib.parse.urlunsplit(parts._replace(netloc=host)), {"Authorization": f"Basic {token}"}
