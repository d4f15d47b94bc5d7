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
