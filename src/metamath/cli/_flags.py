"""The flags several commands share, each declared once here: key=value overrides, --config,
--out, --no-progress; --debug and --dry-run are added by metamath.cli.build_parser itself.
An old spelling of a flag keeps working through renamed(), with a note naming the new one."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def overrides(p: argparse.ArgumentParser, example: str) -> None:
    p.add_argument(
        "overrides", nargs="*", metavar="key=value", help=f"config overrides, e.g. {example}"
    )


def config(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--config", default=None, help=f"YAML {what}")


def out(p: argparse.ArgumentParser, what: str, *aliases: str, dest: str = "out") -> None:
    p.add_argument("--out", *aliases, dest=dest, default=None, help=what)


def grade_mode(p: argparse.ArgumentParser, choices: list[str], default: str, what: str) -> None:
    """--grade-mode (the knob eval's and augment's configs call grade_mode), and its old
    spelling --mode."""
    p.add_argument("--grade-mode", default=default, choices=choices, help=what)
    renamed(p, "--mode", "--grade-mode", dest="grade_mode", choices=choices)


def no_progress(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def debug(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def dry_run(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="resolve and check the config and every input file, print them, and "
        "exit (nothing is created)",
    )


class _Renamed(argparse.Action):
    """An old spelling of a flag: it still works, and says the new name on stderr."""

    def __init__(self, option_strings: list[str], dest: str, new: str, **kw: Any):
        self.new = new
        super().__init__(option_strings, dest, **kw)

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        print(
            f"metamath: {option} is deprecated: it is now called {self.new} (same meaning)",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def renamed(p: argparse.ArgumentParser, old: str, new: str, dest: str, **kw: Any) -> None:
    """Accept `old` as a hidden, deprecated spelling of the flag `new` (same dest)."""
    p.add_argument(old, dest=dest, action=_Renamed, new=new, help=argparse.SUPPRESS, **kw)
