"""The `metamath` command: every subcommand answers --help, and --help imports no torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from metamath.cli import COMMANDS


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "metamath", *args], capture_output=True, text=True, timeout=120
    )


def test_top_level_help_lists_every_command():
    r = _run("--help")
    assert r.returncode == 0, r.stderr
    for name in COMMANDS:
        assert name in r.stdout


@pytest.mark.parametrize("name", list(COMMANDS))
def test_subcommand_help(name):
    r = _run(name, "--help")
    assert r.returncode == 0, r.stderr
    assert f"metamath {name}" in r.stdout
    assert "not available" not in r.stdout


def test_help_does_not_import_torch():
    code = (
        "import sys; from metamath.cli import build_parser; build_parser(['--help']); "
        "print('torch' in sys.modules)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "False", r.stderr


def test_missing_local_model_is_one_clear_line(tmp_path):
    r = _run(
        "eval",
        "--model",
        str(tmp_path / "no-such-model"),
        "--tasks",
        "gsm8k",
        "--limit",
        "1",
        "--out",
        str(tmp_path / "run"),
        "--no-progress",
    )
    assert r.returncode == 2
    assert "no such file or directory" in r.stderr and "metamath tiny-model" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("name", ["augment", "train", "eval", "grade", "quickstart"])
def test_commands_with_long_work_take_no_progress(name):
    """Every command that shows a progress bar can hide it with the same flag."""
    r = _run(name, "--help")
    assert "--no-progress" in r.stdout, r.stdout


def test_train_no_progress_hides_the_bar(tiny_model_dir, tmp_path, capsys):
    import json
    from pathlib import Path

    from metamath.cli import main

    data = tmp_path / "d.jsonl"
    rows = [
        {"query": f"What is {i} + 1?", "response": f"{i} + 1 = {i + 1}. #### {i + 1}"}
        for i in range(8)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    repo = Path(__file__).resolve().parent.parent
    argv = [
        "train",
        "--config",
        str(repo / "configs/train/tiny_cpu.yaml"),
        "--run-dir",
        str(tmp_path / "run"),
        f"model={tiny_model_dir}",
        f"data.path={data}",
        "data.query_field=query",
        "data.response_field=response",
        "data.limit=null",
        f"data.cache_dir={tmp_path / 'cache'}",
        "global_batch_size=2",
        "micro_batch_size=2",
        "max_steps=2",
        "save_steps=0",
    ]
    assert main([*argv, "--no-progress"]) == 0
    assert "train:" not in capsys.readouterr().err
    assert main([*argv[:4], str(tmp_path / "run2"), *argv[5:]]) == 0
    assert "train:" in capsys.readouterr().err  # the bar is there without the flag
