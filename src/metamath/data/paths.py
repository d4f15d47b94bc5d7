"""Where named datasets are found: the data directory ($METAMATH_DATA, else ../shared/data beside
the working directory, then beside this checkout), each dataset's file in it, its Hub fallback,
and the not-found message that lists every place looked.

    data_dir()                                  # the first data directory that exists
    local_file("gsm8k", "test")                 # .../gsm8k/test.jsonl, or None
    expand_data_path("$METAMATH_DATA/gsm8k/train.jsonl")
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "METAMATH_DATA"
DEFAULT_DATA_DIR = "../shared/data"

# name -> (relative local file for each split, Hub id, Hub config)
_LOCAL = {
    ("gsm8k", "train"): "gsm8k/train.jsonl",
    ("gsm8k", "test"): "gsm8k/test.jsonl",
    ("math", "train"): "math/train.jsonl",
    ("math", "test"): "math/test.jsonl",
    ("math500", "test"): "math/test.jsonl",
    ("gsm8k_backward", "test"): "gsm8k/backward_test.jsonl",
}
_HUB = {
    "gsm8k": ("openai/gsm8k", "main"),
    "math": ("EleutherAI/hendrycks_math", None),
    "math500": ("HuggingFaceH4/MATH-500", None),
    "gsm8k_backward": ("meta-math/GSM8K_Backward", None),
}
DATASETS = tuple(_HUB)


class DataNotFoundError(RuntimeError):
    """A named dataset was found neither locally nor on the Hub; the message lists where it was
    looked for and how to point metamath at it."""


def data_dirs() -> list[tuple[Path, str]]:
    """Where named datasets are looked for, in order, each with why: $METAMATH_DATA alone when it
    is set; else ../shared/data beside the working directory, then beside this source checkout
    (so a checkout's commands find the data from any working directory)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return [(Path(env).expanduser(), f"${ENV_VAR}")]
    out = [(Path(DEFAULT_DATA_DIR), "default, beside the working directory")]
    root = Path(__file__).resolve().parents[3]  # src/metamath/data/__init__.py -> the checkout
    if (root / "pyproject.toml").exists():
        out.append((root.parent / "shared" / "data", "default, beside the metamath checkout"))
    seen: set[Path] = set()
    unique = []
    for d, why in out:
        if d.resolve() not in seen:
            seen.add(d.resolve())
            unique.append((d, why))
    return unique


def data_dir() -> Path:
    """The data directory: the first of data_dirs() that exists (else the first, where
    $METAMATH_DATA would point)."""
    dirs = data_dirs()
    return next((d for d, _ in dirs if d.is_dir()), dirs[0][0])


def expand_data_path(path: str) -> str:
    """`$METAMATH_DATA/gsm8k/train.jsonl` -> a path under data_dir() (recipes name data files
    without assuming a working directory); `~` expanded too."""
    for var in (f"${{{ENV_VAR}}}", f"${ENV_VAR}"):
        if path.startswith(var):
            path = str(data_dir()) + path[len(var) :]
    return os.path.expanduser(path)


def file_in(root: str | os.PathLike, name: str, split: str) -> Path:
    """The file of `name:split` inside a data directory (gsm8k/test.jsonl, ...)."""
    if (name, split) not in _LOCAL:
        known = ", ".join(f"{n}:{s}" for n, s in _LOCAL)
        raise ValueError(f"unknown dataset/split {name}:{split}; known: {known}")
    return Path(root) / _LOCAL[(name, split)]


def local_file(name: str, split: str) -> Path | None:
    """Where `name:split` is on disk: the first data directory that has it, else None."""
    files = [file_in(d, name, split) for d, _ in data_dirs()]
    return next((f for f in files if f.is_file()), None)


def hub_id(name: str) -> str:
    """The Hugging Face Hub dataset a named dataset falls back to."""
    return _HUB[name][0]


def not_found_message(name: str, split: str, hub: str = "", how_to_pass: str = "") -> str:
    """Where `name:split` was looked for (and why the Hub did not serve it), then the fixes."""
    rel = _LOCAL[(name, split)]
    tried = "; ".join(f"{d / rel} ({why})" for d, why in data_dirs())
    return (
        f"{name}:{split} was not found. Looked for: {tried}"
        + (f"; {hub}" if hub else "")
        + f".\n  fix: export {ENV_VAR}=/path/to/data, a directory holding gsm8k/train.jsonl, "
        "gsm8k/test.jsonl, gsm8k/backward_test.jsonl, math/train.jsonl, math/test.jsonl and "
        "math/math500_ids.txt" + (f"\n  or {how_to_pass}" if how_to_pass else "")
    )
