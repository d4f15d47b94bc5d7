"""Input checks that run before a command creates anything (and under --dry-run).

Each command's `check_inputs(cfg, args)` calls these and returns one line per input checked;
a missing or unreadable input raises with the config key that names it and the fix. Nothing
here loads a model or a dataset: a file is opened and one byte read, a named dataset is looked
up where metamath.data would find it, and only where it is not local is the Hub asked (once,
with a short timeout; not at all under HF_HUB_OFFLINE).
"""

from __future__ import annotations

import os
from pathlib import Path


def check_file(path: str | os.PathLike, key: str, folder_ok: bool = False) -> str:
    """`key` names a file that must exist and be readable (or, with folder_ok, a readable
    folder: a dataset saved by `datasets` or `metamath augment --export-hf`)."""
    p = Path(path).expanduser()
    if not p.exists():
        where = "" if p.is_absolute() else f" (relative to the working directory {Path.cwd()})"
        from metamath.io import nearby

        raise FileNotFoundError(f"{key}: {p} does not exist{where}{nearby(p)}")
    if p.is_dir():
        if folder_ok and os.access(p, os.R_OK | os.X_OK):
            return f"{key}: {p.resolve()} (a dataset folder)"
        raise IsADirectoryError(f"{key}: {p} is a directory; expected a file")
    try:
        with open(p, "rb") as f:
            f.read(1)
    except OSError as e:
        raise PermissionError(f"{key}: {p} cannot be read ({e.strerror})") from None
    return f"{key}: {p.resolve()} ({p.stat().st_size:,} bytes)"


def check_dataset(name: str, split: str, key: str, how_to_pass: str = "") -> str:
    """A named dataset split (gsm8k:train, math500:test...): local, or reachable on the Hub."""
    from metamath import data

    try:
        local = data.local_file(name, split)
    except ValueError as e:
        raise ValueError(f"{key}: {e}") from None
    what = f"{key} ({name}:{split})"
    if local is not None:
        line = check_file(local, what)
        if name == "math500":  # MATH test plus the id list beside it
            check_file(local.parent / "math500_ids.txt", f"{what} ids")
        return line
    hub_id = data.hub_id(name)
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        why = f"the Hub dataset {hub_id} was not tried (HF_HUB_OFFLINE is set)"
    else:
        why = _hub_unreachable(hub_id)
        why = why and f"the Hub dataset {hub_id} cannot be reached ({why})"
    if why:
        raise data.DataNotFoundError(
            f"{key}: {data.not_found_message(name, split, why, how_to_pass)}"
        )
    return f"{what}: the Hub dataset {hub_id} (not found locally)"


def check_hub_dataset(repo_id: str, key: str) -> str:
    """A Hub dataset id (not a local file): reachable, asked once (never under HF_HUB_OFFLINE)."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        raise FileNotFoundError(
            f"{key}: {repo_id} is not a local file, and HF_HUB_OFFLINE is set so the Hub "
            "dataset of that name cannot be loaded; pass a local JSONL/JSON/Parquet file"
        )
    why = _hub_unreachable(repo_id)
    if why:
        raise FileNotFoundError(
            f"{key}: {repo_id} is not a local file, and the Hub dataset of that name cannot be "
            f"reached ({why}); pass a local JSONL/JSON/Parquet file, or check the id"
        )
    return f"{key}: the Hub dataset {repo_id}"


def _hub_unreachable(repo_id: str) -> str:
    """Why the Hub cannot serve `repo_id`, asked once with a short timeout ("" = it can)."""
    try:
        from huggingface_hub import dataset_info
    except ImportError:
        return "huggingface_hub is not installed (pip install 'metamath[train]')"
    try:
        dataset_info(repo_id, timeout=5)
    except Exception as e:  # offline, gated, missing: each ends in the same advice
        return f"{type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}"
    return ""


def check_task(name: str, task_files: dict, data_path: str | None, key: str) -> str:
    """An evaluation task's problems: its own file, or its dataset (in data_path when given)."""
    from metamath.data import file_in
    from metamath.tasks import FILE_HINT, get_task

    task = get_task(name, task_files)  # an unknown name or a missing task file fails here
    if task.path is not None:
        return check_file(task.path, f"{key} {name}")
    if data_path:
        p = Path(data_path)
        return check_file(file_in(p, task.dataset, task.split) if p.is_dir() else p, "data_path")
    return check_dataset(task.dataset, task.split, f"{key} {name}", FILE_HINT)


def check_out_dir(path: str | os.PathLike, key: str) -> str:
    """An output directory: may exist (a resume), must not be a file, must be creatable."""
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise FileExistsError(f"{key}: {p} is a file; the run needs a directory there")
    parent = p if p.exists() else next((a for a in p.parents if a.exists()), Path("."))
    if not os.access(parent, os.W_OK):
        raise PermissionError(f"{key}: cannot write in {parent}")
    return f"{key}: {p} ({'exists: resumed' if p.exists() else 'will be created'})"


def report(lines: list[str]) -> str:
    """--dry-run's account of the inputs, as YAML comments after the printed config."""
    return "".join(f"# checked {line}\n" for line in lines)


def check_model_input(ref: str, key: str) -> str:
    """A model reference (Hub id, directory, .gguf file) that can be loaded: metamath.models
    fails at once, naming it, where it cannot."""
    from metamath.models import check_model

    m = check_model(ref, key)
    what = {"dir": "a local model directory", "gguf": "a GGUF file", "hub": "a Hub model"}
    return f"{key}: {m.path} ({what.get(m.kind, m.kind)})"
