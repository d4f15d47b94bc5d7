"""Secrets stay out of every file a run writes.

    check_no_secrets(config_dict)    # SecretInConfig if a key like api_key holds a value
    redact(obj)                      # a JSON value with credentials replaced by "***"
    redact_text("http://u:pw@host/v1?api_key=k")   # -> "http://***@host/v1?api_key=***"

Two rules. (1) A secret has no business in a config: configs are saved beside every run
(config.yaml, results.json, stats.json, checkpoints), so a key named like one (api_key, token,
password, secret, authorization, ...) that holds a value is refused, with the environment
variable to use instead, before anything is written. Only `extra_body` and `headers` (sent to
the server as given, for gateways that want a credential there) may hold them. (2) What can
still carry a credential (a URL's user:password@ or ?api_key=, a header, extra_body, an error
message quoting a URL) is redacted wherever a config, log, report or output is written:
metamath.config.to_dict, metamath.io.atomic_write_text, metamath.llm.base.Result/Completion
errors, and the CLI's error line.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
# Keys whose value is a credential. Exact names for the token family, so that pad_token or
# max_tokens never match; any *_api_key / *_secret / *_password.
_SECRET_KEY = re.compile(
    r"(?:.*[_-])?(?:api[_-]?key|apikey|secret|password|passwd|credentials?)"
    r"|(?:(?:access|auth|refresh|id|session|bearer|hf|api)[_-])?token"
    r"|authorization|bearer|private[_-]key|x[_-]api[_-]key",
    re.IGNORECASE,
)
# Mappings passed to a server as given: a credential may live there; it is redacted on write.
PASS_THROUGH = ("extra_body", "headers")

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@?#\"'\\]+@")
_PARAM = re.compile(
    r"(?i)([?&;][a-z0-9_.\-]*(?:api[_-]?key|apikey|key|secret|password|passwd|token|sig"
    r"|signature|auth|credential)=)[^&#\s\"'<>\\]+"
)
_AUTH_HEADER = re.compile(
    r"(?i)((?:authorization|x-api-key|api-key)[\"']?\s*[:=]\s*[\"']?)"
    r"(?:(?:bearer|basic|token)\s+)?[^\s\"',}\\]+"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=\-]{12,}")
# (The character classes stop at quotes and backslashes, so redacting JSON text keeps it JSON.)
# Key shapes of the common providers (OpenAI, Anthropic, Hugging Face, GitHub, AWS), as a net
# for a key that reached a message some other way.
_KEY_SHAPES = re.compile(
    r"\b(?:sk-[A-Za-z0-9_\-]{16,}|hf_[A-Za-z0-9]{24,}|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|AKIA[0-9A-Z]{16})\b"
)


class SecretInConfig(ValueError):
    """A config holds a credential; the message names the key and the environment variable."""


def is_secret_key(name: str) -> bool:
    return isinstance(name, str) and _SECRET_KEY.fullmatch(name) is not None


def find_secrets(data: Any, prefix: str = "") -> list[str]:
    """Dotted keys of `data` that hold a literal credential (outside PASS_THROUGH mappings)."""
    found: list[str] = []
    if isinstance(data, dict):
        for k, v in data.items():
            key = f"{prefix}{k}"
            if k in PASS_THROUGH:
                continue
            if is_secret_key(str(k)) and v not in (None, "", MASK):
                found.append(key)
            else:
                found.extend(find_secrets(v, key + "."))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found.extend(find_secrets(v, f"{prefix.rstrip('.')}[{i}]."))
    return found


def check_no_secrets(data: Any, where: str = "config") -> None:
    """Refuse a config that holds a credential, before anything is written."""
    keys = find_secrets(data)
    if keys:
        raise SecretInConfig(
            f"{where}: '{keys[0]}' holds a secret, and configs are saved beside every run "
            "(config.yaml, results, checkpoints). Secrets are read only from the environment: "
            "drop the key and export it instead, e.g. `export OPENAI_API_KEY=...` for the "
            "openai backend (teacher.options.api_key_env / options.api_key_env name "
            "another variable); Hugging Face tokens go in HF_TOKEN"
        )


def redact_text(text: str) -> str:
    """`text` with credentials in URLs, auth headers and known key shapes replaced by ***."""
    if not text:
        return text
    text = _USERINFO.sub(rf"\1{MASK}@", text)
    text = _PARAM.sub(rf"\1{MASK}", text)
    text = _AUTH_HEADER.sub(rf"\1{MASK}", text)
    text = _BEARER.sub(rf"\1{MASK}", text)
    return _KEY_SHAPES.sub(MASK, text)


def redact(obj: Any) -> Any:
    """A copy of a JSON-like value with every credential masked: values under secret keys
    (also inside extra_body and headers) and credentials inside any string."""
    if isinstance(obj, dict):
        return {
            k: (MASK if is_secret_key(str(k)) and v not in (None, "") else redact(v))
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return type(obj)(redact(v) for v in obj)
    if isinstance(obj, str):
        return redact_text(obj)
    return obj
