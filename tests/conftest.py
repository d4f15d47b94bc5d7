"""Shared fixtures: the reference data dir ($METAMATH_DATA, default ../shared/data) and a tiny
random LLaMA model built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _data_dir() -> Path:
    env = os.environ.get("METAMATH_DATA")
    return Path(env) if env else (REPO.parent / "shared" / "data")


@pytest.fixture(scope="session", autouse=True)
def _data_env():
    # Loaders resolve $METAMATH_DATA; point it at the reference data for every test.
    os.environ.setdefault("METAMATH_DATA", str(_data_dir()))
    yield


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real reference data; tests that need it skip with a reason where it is absent."""
    d = _data_dir()
    if not (d / "gsm8k" / "train.jsonl").exists():
        pytest.skip(
            f"reference data not found at {d} (set METAMATH_DATA to the data dir "
            "holding gsm8k/ and math/)"
        )
    return d


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random LLaMA + BPE tokenizer (trained on the data text when present), built once."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from metamath.tiny import build_tiny_model

    d = _data_dir()
    out = tmp_path_factory.mktemp("tiny_model")
    return build_tiny_model(out, d if (d / "gsm8k").exists() else None)
