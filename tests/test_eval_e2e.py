"""The tiny model end to end: through the hf backend in-process, and through the openai backend
against `metamath serve` on 127.0.0.1 (a real server process, real HTTP). Every output file is
written and consistent: the accuracies recomputed from samples.jsonl equal results.json.

The tiny model answers at random (accuracy ~0); the plumbing is what is under test. Decoding is
cut to a few tokens so CPU runs stay short; the paper's budgets are covered by test_eval.py.
"""

from __future__ import annotations

import json
import os
import sys

import pytest
import yaml

from _servers import free_port, running_server
from metamath.cli import main
from metamath.evaluate import EvalConfig, run_eval, score_file
from metamath.evaluate.run import DecodingConfig

ALL = ["gsm8k", "math", "math500", "gsm8k_backward"]


def check_run(run, tasks: list[str], n_problems: int) -> dict:
    """Every file present; every number in results.json recomputed from samples.jsonl."""
    for name in ("config.yaml", "samples.jsonl", "results.json", "report.md", "report.html"):
        assert (run / name).stat().st_size > 0, name
    res = json.loads((run / "results.json").read_text())
    rows = [json.loads(x) for x in (run / "samples.jsonl").read_text().splitlines()]
    assert list(res["tasks"]) == tasks and len(rows) == n_problems * len(tasks)
    for t in tasks:
        mine = [r for r in rows if r["eval_task"] == t]
        m = res["tasks"][t]["metrics"]
        assert len(mine) == m["n_problems"] == res["tasks"][t]["n_problems"] == n_problems
        for mode in ("strict", "flexible"):
            acc = sum(r[mode]["correct"] for r in mine) / len(mine)
            assert acc == m[mode]["accuracy"], (t, mode)
        assert sum(r["correct"] for r in mine) == m[res["primary"]]["correct"]
        assert m["truncated_rate"] == sum(r["finish_reason"] == "length" for r in mine) / len(mine)
        assert all(r["completion"] is not None and r["gold"] and r["prompt"] for r in mine)
        assert t in (run / "report.md").read_text() and t in (run / "report.html").read_text()
    assert score_file(run / "samples.jsonl") == {t: res["tasks"][t]["metrics"] for t in tasks}
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["config"]["tasks"] == tasks and saved["run"]["metamath_version"]
    return res


def test_hf_backend_end_to_end_and_resume(tiny_model_dir, tmp_path, data_dir):
    cfg = EvalConfig(
        model=str(tiny_model_dir),
        backend="hf",
        tasks=["gsm8k", "math500"],
        limit=4,
        decoding=DecodingConfig(max_tokens=12),
        options={"device": "cpu"},
    )
    res = run_eval(cfg, tmp_path, progress=False)
    check_run(tmp_path, ["gsm8k", "math500"], 4)
    assert res["usage"]["cached"] == 0 and res["usage"]["completion_tokens"] > 0
    assert (tmp_path / "cache.sqlite").exists()
    # A re-run (resume after a crash, or a second look) is served from the cache: same samples.
    before = (tmp_path / "samples.jsonl").read_text()
    again = run_eval(cfg, tmp_path, progress=False)
    assert again["usage"]["cached"] == 8 and again["backend_stats"]["cache_misses"] == 0
    strip = [
        {k: v for k, v in json.loads(x).items() if k != "cached"} for x in before.split("\n") if x
    ]
    after = [
        {k: v for k, v in json.loads(x).items() if k != "cached"}
        for x in (tmp_path / "samples.jsonl").read_text().splitlines()
    ]
    assert after == strip


def test_cli_eval_on_the_tiny_model(tiny_model_dir, tmp_path, data_dir, capsys):
    out = tmp_path / "run"
    rc = main(
        [
            "eval",
            "--model",
            str(tiny_model_dir),
            "--tasks",
            "gsm8k_backward",
            "--limit",
            "3",
            "--backend",
            "hf",
            "--out",
            str(out),
            "--no-progress",
            "decoding.max_tokens=8",
            "options.device=cpu",
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "gsm8k_backward" in text and "wrote" in text
    check_run(out, ["gsm8k_backward"], 3)
    assert (
        main(["eval", "--model", str(tiny_model_dir), "--out", str(out), "decodng.n=2"]) == 2
    )  # a typo'd key is an error naming the closest key
    assert "did you mean 'decoding'" in capsys.readouterr().err


@pytest.mark.slow
def test_hf_all_tasks_20_problems(tiny_model_dir, tmp_path, data_dir):
    cfg = EvalConfig(
        model=str(tiny_model_dir),
        backend="hf",
        tasks=ALL,
        limit=20,
        decoding=DecodingConfig(max_tokens=24),
        options={"device": "cpu"},
    )
    res = run_eval(cfg, tmp_path, progress=False)
    check_run(tmp_path, ALL, 20)
    assert res["backend"] == "hf" and res["tasks"]["math"]["metrics"]["by_subject"]


@pytest.fixture
def served_tiny(tiny_model_dir, tmp_path):
    """`metamath serve` as a separate process on loopback; yields its base URL."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "metamath",
        "serve",
        str(tiny_model_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--device",
        "cpu",
        "--served-model-name",
        "tiny",
    ]
    with (
        open(tmp_path / "serve.log", "w") as log,
        running_server(
            cmd, port, log, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"}
        ) as url,
    ):
        yield url


@pytest.mark.slow
def test_openai_backend_against_metamath_serve(served_tiny, tmp_path, data_dir):
    cfg = EvalConfig(
        model="tiny",
        backend="openai",
        tasks=ALL,
        limit=20,
        options={"base_url": served_tiny, "api_key_env": "NO_KEY_NEEDED"},
        decoding=DecodingConfig(max_tokens=24),
    )
    res = run_eval(cfg, tmp_path, progress=False)
    check_run(tmp_path, ALL, 20)
    assert res["usage"]["errors"] == 0 and res["usage"]["completion_tokens"] > 0
    # the chat style goes through the served model's chat template
    chat = EvalConfig(
        model="tiny",
        backend="openai",
        tasks=["gsm8k"],
        limit=3,
        prompt_style="chat",
        options={"base_url": served_tiny, "api_key_env": "NO_KEY_NEEDED"},
        decoding=DecodingConfig(max_tokens=8),
    )
    run_eval(chat, tmp_path / "chat", progress=False)
    rows = [json.loads(x) for x in (tmp_path / "chat" / "samples.jsonl").read_text().splitlines()]
    assert rows[0]["prompt"].startswith("[user] ") and "\\boxed{}" in rows[0]["prompt"]
    check_run(tmp_path / "chat", ["gsm8k"], 3)
