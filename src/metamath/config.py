"""Config: a dataclass per stage with defaults, YAML on top, `key.sub=value` overrides last.

    cfg = load_config(EvalConfig, "configs/eval/gsm8k.yaml", ["model=./ckpt", "decoding.n=4"])
    save_resolved(cfg, run_dir)    # config.yaml with package version and git sha beside outputs

Unknown keys are errors that name the closest valid key. Override values are parsed as YAML
scalars ("4" -> 4, "true" -> True, "[a,b]" -> list), then checked against the field's type.
A key that holds a secret (api_key=..., in YAML or on the command line) is refused before
anything is written (metamath.secrets); what is saved (to_dict) has credentials redacted.
"""

from __future__ import annotations

import dataclasses
import difflib
import subprocess
import types
import typing
import warnings
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A config key or value is wrong; the message names the key, the value and the fix (and,
    from load_config, where the key was set: the YAML file and line, or the override)."""

    def __init__(self, msg: str, key: str | None = None):
        super().__init__(msg)
        self.key = key


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Check/convert a YAML value against a field type (dataclass, Optional, list, scalars)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, key)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{key}: bad value {value!r}", key)
    if dataclasses.is_dataclass(tp):
        if isinstance(tp, type) and isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping for {tp.__name__}, got {value!r}", key)
        return from_dict(tp, value, prefix=key + ".")
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}", key)
        (inner, *_) = typing.get_args(tp) or (Any,)
        out = [_coerce(v, inner, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(out) if origin is tuple else out
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}", key)
        return dict(value)
    if origin is typing.Literal:
        if isinstance(value, bool) and ("no", "yes")[value] in typing.get_args(tp):
            value = ("no", "yes")[value]  # YAML 1.1 reads a bare no / yes as a boolean
        if value not in typing.get_args(tp):
            raise ConfigError(f"{key}: {value!r} is not one of {list(typing.get_args(tp))}", key)
        return value
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected true/false, got {value!r}", key)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected an integer, got {value!r}", key)
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "2e-5" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{key}: expected a number, got {value!r}", key)
    if tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{key}: expected a string, got {value!r}", key)
    return value


def _renamed(cls: type, data: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Old key spellings a config class still accepts (its RENAMED: old -> new), each with a
    warning that names the new key; giving both is an error."""
    renamed: dict[str, str] = getattr(cls, "RENAMED", {})
    if not any(k in renamed for k in data):
        return data
    out = dict(data)
    for old, new in renamed.items():
        if old not in out:
            continue
        if new in out:
            raise ConfigError(
                f"'{prefix}{old}' and '{prefix}{new}' are both set; '{prefix}{old}' is the old "
                f"name of '{prefix}{new}': keep only '{prefix}{new}'",
                prefix + old,
            )
        warnings.warn(
            f"config key '{prefix}{old}' is deprecated: it is now called '{prefix}{new}' "
            "(same meaning); the old name will be removed in a later version",
            FutureWarning,
            stacklevel=2,
        )
        out[new] = out.pop(old)
    return out


def from_dict(cls: type[T], data: dict[str, Any], prefix: str = "") -> T:
    """Build a (nested) dataclass from a dict; unknown keys name the closest valid key."""
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for k, v in _renamed(cls, data, prefix).items():
        if k not in names:
            close = difflib.get_close_matches(k, names, n=1)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else ""
            raise ConfigError(
                f"unknown config key '{prefix}{k}'{hint} "
                f"(valid keys: {', '.join(prefix + n for n in names)})",
                prefix + k,
            )
        kwargs[k] = _coerce(v, hints[k], prefix + k)
    return cls(**kwargs)


def check_literals(cfg: Any, prefix: str = "") -> None:
    """ConfigError for a Literal field (of cfg or a dataclass inside it) set, in Python, to a
    value not among its choices: load_config checks YAML and overrides, this the rest."""
    hints = _hints(type(cfg))
    for f in dataclasses.fields(cfg):
        value, tp = getattr(cfg, f.name), hints[f.name]
        if typing.get_origin(tp) is typing.Literal and value not in typing.get_args(tp):
            choices = ", ".join(map(str, typing.get_args(tp)))
            raise ConfigError(f"{prefix}{f.name}={value!r}: use one of {choices}", prefix + f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            check_literals(value, f"{prefix}{f.name}.")


def to_dict(cfg: Any) -> dict[str, Any]:
    """The config as saved beside a run: a plain dict with credentials redacted."""
    from metamath.secrets import redact

    return redact(dataclasses.asdict(cfg))


def _set_path(d: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        nxt = d.setdefault(p, {})
        if not isinstance(nxt, dict):
            raise ConfigError(f"override '{dotted}': '{p}' is not a section")
        d = nxt
    d[parts[-1]] = value


def parse_overrides(overrides: list[str] | None) -> dict[str, Any]:
    """["a.b=1", "c=x"] -> {"a": {"b": 1}, "c": "x"}; values parsed as YAML scalars."""
    out: dict[str, Any] = {}
    prev = ""
    for ov in overrides or []:
        if "=" not in ov:
            if prev.endswith("="):  # the shell split "model= ./ckpt" in two
                raise ConfigError(
                    f"override '{prev}' has an empty value and '{ov}' is not of the form "
                    f"key=value: no space after '=' (write {prev}{ov})"
                )
            raise ConfigError(f"override '{ov}' is not of the form key=value (e.g. model=./ckpt)")
        prev = ov
        k, v = ov.split("=", 1)
        try:
            val = yaml.safe_load(v) if v != "" else ""
        except yaml.YAMLError:
            val = v
        _set_path(out, k.strip(), val)
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_config(
    cls: type[T],
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    base: dict[str, Any] | None = None,
) -> T:
    """Defaults <- base dict <- YAML file <- key=value overrides. A wrong key or value is
    reported with where it was set: the YAML file and line, or the command-line override."""
    data: dict[str, Any] = dict(base or {})
    where: dict[str, str] = {}
    if path:
        p = Path(path)
        if not p.exists():
            from metamath.io import nearby

            raise ConfigError(f"config file {p} does not exist{nearby(p)}")
        try:
            text = p.read_text(encoding="utf-8-sig")  # a BOM at the start is fine
        except UnicodeDecodeError as e:
            raise ConfigError(f"{p}: not valid UTF-8 ({e})") from None
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{p}: not valid YAML ({e})") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p}: the top level must be a mapping of keys to values")
        data = _merge(data, loaded)
        where.update({k: f"{p}, line {n}" for k, n in _key_lines(yaml.compose(text)).items()})
    for ov in overrides or []:
        k = ov.split("=", 1)[0].strip()
        where = {w: v for w, v in where.items() if not _within(w, k)}  # the override wins
        where[k] = f"command-line override '{ov}'"
    data = _merge(data, parse_overrides(overrides))
    check_secrets(data)
    try:
        return from_dict(cls, data)
    except ConfigError as e:
        src = _source(e.key, where)
        if src is None:
            raise
        raise ConfigError(f"{src}: {e}", e.key) from None


def _within(key: str, prefix: str) -> bool:
    """key is prefix or lies below it ("a.b[0].c" within "a.b")."""
    return key == prefix or key.startswith((prefix + ".", prefix + "["))


def _source(key: str | None, where: dict[str, str]) -> str | None:
    """Where the setting of `key` (or the closest enclosing one) came from."""
    while key:
        if key in where:
            return where[key]
        cut = max(key.rfind("."), key.rfind("["))
        key = key[:cut] if cut > 0 else ""
    return None


def _key_lines(node: Any, prefix: str = "") -> dict[str, int]:
    """Dotted key (a.b, a.list[0].c) -> 1-based line of every key in a composed YAML tree."""
    out: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = f"{prefix}{k.value}"
            out[key] = k.start_mark.line + 1
            out.update(_key_lines(v, key + "."))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            key = f"{prefix.rstrip('.')}[{i}]"
            out[key] = v.start_mark.line + 1
            out.update(_key_lines(v, key + "."))
    return out


def check_secrets(data: dict[str, Any]) -> None:
    """ConfigError if a config (YAML, overrides or a dict) holds a credential."""
    from metamath.secrets import SecretInConfig, check_no_secrets

    try:
        check_no_secrets(data)
    except SecretInConfig as e:
        raise ConfigError(str(e)) from None


def git_sha() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def run_metadata() -> dict[str, Any]:
    import platform
    import sys

    from metamath import __version__

    return {
        "metamath_version": __version__,
        "git_sha": git_sha(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def save_resolved(cfg: Any, run_dir: str | Path, name: str = "config.yaml") -> Path:
    """Write the resolved config plus version metadata beside a run's outputs."""
    from metamath.io import atomic_write_text

    check_secrets(dataclasses.asdict(cfg))  # a config built in Python skipped load_config
    out = Path(run_dir) / name
    doc = {"config": to_dict(cfg), "run": run_metadata()}
    atomic_write_text(out, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return out
