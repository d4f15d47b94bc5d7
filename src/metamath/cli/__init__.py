"""`metamath` command line: parse, load config, call the stage. Nothing else lives here.

Each subcommand is a module in this package exposing HELP, add_arguments(parser) and
run(args) -> int; the flags several share are declared once, in _flags. A command with
config_from_args(args) (and check_inputs) gets --dry-run. Modules are imported lazily so
`metamath --help` never imports torch.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from metamath.cli import _flags as flags

# name -> module (in metamath.cli); the order is the order shown by --help
COMMANDS = {
    "quickstart": "quickstart",
    "augment": "augment",
    "train": "train",
    "eval": "evaluate",
    "grade": "grade",
    "compare": "compare",
    "serve": "serve",
    "tiny-model": "tiny_model",
}


def _module(name: str):
    return importlib.import_module(f"metamath.cli.{COMMANDS[name]}")


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metamath",
        description="MetaMath end to end: bootstrap MetaMathQA, fine-tune, evaluate.",
    )
    from metamath import __version__

    parser.add_argument("--version", action="version", version=f"metamath {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Only import the module of the command being run (help text for the others is static).
    wanted = next((a for a in argv if a in COMMANDS), None)
    for name in COMMANDS:
        try:
            mod = _module(name) if wanted in (None, name) else None
        except ImportError:
            mod = None
        help_ = getattr(mod, "HELP", None) or f"(see metamath {name} --help)"
        p = sub.add_parser(
            name,
            help=help_,
            description=getattr(mod, "DESCRIPTION", help_),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(parser=p)  # its own usage line for errors found after parsing
        if mod is not None:
            mod.add_arguments(p)
            flags.debug(p)
            if hasattr(mod, "config_from_args"):
                flags.dry_run(p)
    return parser


def parse_args(argv: list[str]) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """Parse a command line; key=value overrides may come before or after the options
    (`--out x k=v`): argparse alone stops collecting a positional list at the first option."""
    parser = build_parser(argv)
    args, extra = parser.parse_known_args(argv)
    if extra:
        overrides = [e for e in extra if "=" in e and not e.startswith("-")]
        if hasattr(args, "overrides") and len(overrides) == len(extra):
            args.overrides = [*(args.overrides or []), *overrides]
        else:
            unknown = [e for e in extra if e not in overrides or not hasattr(args, "overrides")]
            getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    return parser, args


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # OpenMP threads that spin while waiting for work stall CPU generation when the cores are
    # shared (a server's event loop, tokenizer threads, other jobs): one forward pass of a 135M
    # model took 1-6 s instead of 0.2 s on a loaded 2-core machine. Passive waiting costs little
    # when the cores are free. Read when torch starts, so set before any stage imports it.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    parser, args = parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    mod = _module(args.command)
    try:
        if getattr(args, "dry_run", False):
            return _dry_run(mod, args)
        return int(mod.run(args) or 0)
    except KeyboardInterrupt:
        print(
            "interrupted; finished work is saved, re-run the same command to resume",
            file=sys.stderr,
        )
        return 130
    except (ValueError, OSError, RuntimeError, ImportError) as e:
        # OSError covers missing files and transformers' model-loading errors; ImportError a
        # missing extra (its message carries the pip command).
        if getattr(args, "debug", False):
            raise
        from metamath.secrets import redact_text

        print(f"metamath {args.command}: error: {redact_text(str(e))}", file=sys.stderr)
        return 2


def _dry_run(mod, args: argparse.Namespace) -> int:
    import yaml

    from metamath.config import to_dict

    cfg = mod.config_from_args(args)
    checked = mod.check_inputs(cfg, args) if hasattr(mod, "check_inputs") else []
    print(yaml.safe_dump(to_dict(cfg), sort_keys=False, allow_unicode=True), end="")
    if checked:
        from metamath.cli._inputs import report

        print(report(checked), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
