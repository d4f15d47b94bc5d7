"""End to end with the tiny random model as the teacher: once in-process through the hf backend,
once through the openai backend against `metamath serve` (a real subprocess on 127.0.0.1).
A random model keeps (almost) nothing; what is checked is that every output file is written and
valid, that the stats add up and say so, and that a re-run is served from the cache."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from _servers import free_port, running_server
from metamath.augment import (
    AugmentConfig,
    SeedConfig,
    TeacherConfig,
    TechniqueConfig,
    run_augment,
)

pytest.importorskip("torch")
pytest.importorskip("transformers")


def tiny_cfg(backend: str, model: str, **options) -> AugmentConfig:
    small = {"k": 2, "k_rewrite": 1, "max_tokens": 16, "max_masks": 1}
    return AugmentConfig(
        seeds=[SeedConfig(name="gsm8k", limit=2), SeedConfig(name="math", limit=2)],
        answer_aug=TechniqueConfig(**small),
        rephrase=TechniqueConfig(**small),
        fobar=TechniqueConfig(**small),
        self_verification=TechniqueConfig(**small),
        shots=1,
        decontaminate=False,
        teacher=TeacherConfig(backend=backend, model=model, options=options, cache=True),
    )


def check_outputs(run: Path, stats: dict) -> None:
    for name in ("metamathqa.jsonl", "rejected.jsonl", "stats.json", "DATA_CARD.md", "config.yaml"):
        assert (run / name).exists(), name
    kept = [json.loads(x) for x in (run / "metamathqa.jsonl").read_text().splitlines()]
    rejected = [json.loads(x) for x in (run / "rejected.jsonl").read_text().splitlines()]
    assert len(kept) == stats["rows"]
    for r in kept:
        assert {"query", "response", "type", "original_question"} <= set(r)
    assert rejected and all(r["reason"] for r in rejected)
    assert json.loads((run / "stats.json").read_text()) == stats
    drawn = 0
    for t, v in stats["techniques"].items():
        assert v["kept"] + sum(v["rejected"].values()) == v["samples"], t
        assert v["yield"] == (round(v["kept"] / v["samples"], 4) if v["samples"] else 0.0)
        drawn += v["samples"]
        if v["samples"] and not v["kept"]:
            assert t in stats["zero_yield"]
    a = stats["techniques"]["answer_aug"]
    assert a["samples"] == 8 and a["requests"] >= 4
    assert a["tokens"]["prompt"] > 0 and a["tokens"]["completion"] > 0
    assert stats["techniques"]["fobar"]["samples"] > 0
    assert drawn > 0
    card = (run / "DATA_CARD.md").read_text()
    if stats["zero_yield"]:
        assert "Zero yield" in card


@pytest.mark.slow
def test_tiny_model_through_hf(tiny_model_dir, data_dir, tmp_path):
    cfg = tiny_cfg("hf", str(tiny_model_dir), batch_size=8, device="cpu")
    stats = run_augment(cfg, tmp_path)
    check_outputs(tmp_path, stats)
    (tmp_path.parent / "hf_stats.json").write_text(json.dumps(stats, indent=1))
    assert (tmp_path / "work" / "llm_cache.sqlite").exists()
    log = (tmp_path / "work" / "requests.jsonl").read_text()
    again = run_augment(cfg, tmp_path)  # resume of a finished run: no request at all
    assert (tmp_path / "work" / "requests.jsonl").read_text() == log
    assert again == stats


@pytest.fixture
def served(tiny_model_dir, tmp_path):
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "metamath",
        "serve",
        str(tiny_model_dir),
        "--port",
        str(port),
        "--served-model-name",
        "tiny",
        "--device",
        "cpu",
    ]
    with open(tmp_path / "serve.log", "w") as log, running_server(cmd, port, log) as url:
        yield url


@pytest.mark.slow
def test_tiny_model_through_openai_and_serve(served, data_dir, tmp_path):
    cfg = tiny_cfg("openai", "tiny", base_url=served, max_in_flight=8)
    stats = run_augment(cfg, tmp_path)
    check_outputs(tmp_path, stats)
    assert stats["teacher"] == {"backend": "openai", "model": "tiny"}
