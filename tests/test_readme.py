"""The README's commands stay true.

- The README opens with exactly two set-up commands (install + main job; tests); `.ci/run` runs
  those two blocks verbatim on a fresh machine.
- Every `metamath ...` command in a bash block (also behind `accelerate launch ... -m metamath`)
  parses, and where it takes a config its config resolves and validates (what `--dry-run` does
  before it checks the input files, which exist only where the commands run), with the config
  files it names present.
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


def test_every_metamath_command_parses_and_its_config_resolves():
    from metamath.cli import COMMANDS, _module, parse_args

    checked = 0
    for _, code, _ in blocks():
        for cmd in commands(code):
            argv = metamath_argv(cmd)
            if argv is None:
                continue
            assert argv and argv[0] in COMMANDS, cmd
            _, args = parse_args(argv)
            config = getattr(args, "config", None)
            assert config is None or (REPO / config).exists(), f"{cmd}: {config} missing"
            mod = _module(argv[0])
            if hasattr(mod, "config_from_args"):
                assert hasattr(args, "dry_run"), cmd
                if config:
                    args.config = str(REPO / config)
                mod.config_from_args(args)  # raises on a wrong key or value
            checked += 1
    assert checked >= 15, checked


def test_quickstart_keys_are_all_listed():
    """The README's and --help's key lists of `metamath quickstart` are its config's fields."""
    import dataclasses

    from metamath.cli.quickstart import DESCRIPTION
    from metamath.quickstart import QuickstartConfig

    fields = [f.name for f in dataclasses.fields(QuickstartConfig)]
    text = README.read_text(encoding="utf-8")
    listed = re.search(
        r"\*\*`metamath quickstart \[key=value \.\.\.\]`\*\*.*?\(keys: (.*?)\)", text, re.S
    )
    assert listed, "the README's quickstart paragraph lists its keys: (keys: `a`, `b`, ...)"
    assert re.findall(r"`(\w+)`", listed.group(1)) == fields
    assert all(f"{name} [" in " ".join(DESCRIPTION.split()) for name in fields)


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
