"""The README's commands stay true.

- The README opens with exactly two set-up commands (install + main job; tests); `.ci/run` runs
  those two blocks verbatim on a fresh machine.
- Every `metamath ...` command in a bash block (also behind `accelerate launch ... -m metamath`)
  parses, and for augment/train/eval its config resolves and validates (`--dry-run`), with the
  config files it names present.
- The blocks marked `<!-- docs: run -->` (the Commands section) really run, in order, offline, in
  a scratch directory, on the tiny model (slow).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from _servers import stop, wait_ready

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
BLOCK = re.compile(r"(<!-- docs: (\w+) -->\n)?```bash\n(.*?)```", re.S)


def blocks() -> list[tuple[str | None, str, int]]:
    """(marker, code, offset) for every bash block."""
    text = README.read_text(encoding="utf-8")
    return [(m.group(2), m.group(3), m.start()) for m in BLOCK.finditer(text)]


def commands(code: str) -> list[str]:
    """Logical command lines of a block: continuations joined, comments dropped."""
    out, cur = [], ""
    for line in code.splitlines():
        line = line.rstrip()
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        cur += line
        cur = re.sub(r"\s+#.*$", "", cur).strip()
        if cur and not cur.startswith("#"):
            out.append(cur)
        cur = ""
    return out


def metamath_argv(cmd: str) -> list[str] | None:
    """The metamath argv of a command (also inside `accelerate launch ... -m metamath ...`)."""
    cmd = cmd.rstrip("&").strip()
    argv = shlex.split(cmd)
    if argv[:1] == ["metamath"]:
        return argv[1:]
    if argv[:2] == ["accelerate", "launch"] and "-m" in argv:
        i = argv.index("-m")
        cfg = argv[argv.index("--config_file") + 1] if "--config_file" in argv else None
        assert cfg is None or (REPO / cfg).exists(), f"{cmd}: {cfg} does not exist"
        assert argv[i + 1] == "metamath", cmd
        return argv[i + 2 :]
    return None


def test_readme_opens_with_exactly_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    first_section = text[: text.index("\n## ")]
    setup = [b for b in blocks() if b[2] < len(first_section)]
    assert len(setup) == 2, "the README must open with exactly two set-up commands"
    install, tests = (commands(code) for _, code, _ in setup)
    assert len(install) == 1 and len(tests) == 1
    assert "pip install torch==2.13.0" in install[0] and "metamath quickstart" in install[0]
    assert "pytest" in tests[0]
    ci = (REPO / ".ci" / "run").read_text()
    assert "README.md" in ci  # CI runs these two blocks verbatim


def _fake_hub_model(cache: Path, repo: str) -> None:
    """A Hub id as the local Hugging Face cache holds it (a dry run only checks it is there)."""
    d = cache / f"models--{repo.replace('/', '--')}"
    (d / "snapshots" / "0").mkdir(parents=True, exist_ok=True)
    (d / "snapshots" / "0" / "config.json").write_text("{}")
    (d / "refs").mkdir(exist_ok=True)
    (d / "refs" / "main").write_text("0")


def _dry_run(argv: list[str], cwd: Path, hub: Path) -> subprocess.CompletedProcess:
    """--dry-run in a scratch directory: the local models the README names (runs/tiny, a model an
    earlier command trains) are made there as stubs, and its Hub models are put in a scratch HF
    cache (offline: no network). Only what a dry run reports missing is made."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(hub)}
    for _ in range(6):
        r = subprocess.run(
            [sys.executable, "-m", "metamath", *argv, "--dry-run"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        hub_id = re.search(r"'([^']+)' is not a local path", r.stderr)
        local = re.search(r"'([^']+)': no such file or directory", r.stderr)
        if r.returncode == 0 or not (hub_id or local):
            return r
        if hub_id:
            _fake_hub_model(hub, hub_id.group(1))
        else:
            (cwd / local.group(1)).mkdir(parents=True)
            (cwd / local.group(1) / "config.json").write_text("{}")
    return r


def test_every_metamath_command_parses_and_its_config_resolves(tmp_path):
    from metamath.cli import COMMANDS, build_parser

    (tmp_path / "configs").symlink_to(REPO / "configs")
    (tmp_path / "runs" / "tiny").mkdir(parents=True)
    (tmp_path / "runs" / "tiny" / "config.json").write_text("{}")
    checked = 0
    for _, code, _ in blocks():
        for cmd in commands(code):
            argv = metamath_argv(cmd)
            if argv is None:
                continue
            assert argv and argv[0] in COMMANDS, cmd
            args = build_parser(argv).parse_args(argv)
            config = getattr(args, "config", None)
            assert config is None or (REPO / config).exists(), f"{cmd}: {config} missing"
            if hasattr(args, "dry_run"):
                r = _dry_run(argv, tmp_path, tmp_path / "hf")
                assert r.returncode == 0, f"{cmd}\n{r.stderr}"
            checked += 1
    assert checked >= 15, checked


@pytest.mark.slow
def test_commands_section_runs_offline(tmp_path, data_dir):
    work = tmp_path / "work"
    work.mkdir()
    (work / "configs").symlink_to(REPO / "configs")
    env = {
        **os.environ,
        "METAMATH_DATA": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    background: list[subprocess.Popen] = []
    ran = 0
    try:
        for marker, code, _ in blocks():
            if marker != "run":
                continue
            for cmd in commands(code):
                argv = metamath_argv(cmd)
                assert argv is not None, f"only metamath commands run here: {cmd}"
                full = [sys.executable, "-m", "metamath", *argv]
                if cmd.endswith("&"):  # a server: wait until it answers /health
                    log = tmp_path / f"background{len(background)}.log"
                    with open(log, "w") as out:
                        proc = subprocess.Popen(
                            full, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT
                        )
                    background.append(proc)
                    wait_ready(proc, int(argv[argv.index("--port") + 1]), log)
                    continue
                r = subprocess.run(
                    full, cwd=work, env=env, capture_output=True, text=True, timeout=900
                )
                assert r.returncode == 0, f"{cmd}\n{r.stderr[-3000:]}"
                ran += 1
    finally:
        for p in background:
            stop(p)
    assert ran >= 8
    for rel in [
        "runs/tiny/config.json",
        "runs/qs-small/index.html",
        "runs/aug-tiny/metamathqa.jsonl",
        "runs/train-tiny/model/config.json",
        "runs/eval-tiny/report.html",
        "runs/graded.jsonl",
        "runs/aug-served/stats.json",
    ]:
        assert (work / rel).exists(), rel
