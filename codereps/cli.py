"""The `codereps` command line: one entry point, one subcommand per area.

Each area module exposes `add_parser(subparsers)` and keeps its heavy imports
(torch, transformers, datasets) inside the function it runs, so `codereps
--help` and `codereps ir` start instantly.

A bad path, a missing folder or a repo id that is invalid or unreachable ends any command with one line
naming it and what to do, and exit status 2 (`codereps.user_errors`); CODEREPS_TRACEBACK=1 shows the
traceback instead.
"""

import argparse
import importlib
import os
import sys

from codereps.allocator import AllocatorError, reexec_with_jemalloc
from codereps.noise import silence_library_noise
from codereps.user_errors import user_error_message

USER_ERROR_STATUS = 2

# subcommand -> module that defines it
SUBCOMMAND_MODULES = {
    "ir": "dataset_builder.ir_cli",
    "dataset": "dataset_builder.cli",
    "tokenizer": "tokenizer_builder.cli",
    "train": "trainers.sft",
    "classify": "trainers.classify_cli",
    "evaluate": "eval_space.cli",
    "experiment": "trainers.experiment",
    "report": "eval_space.report",
    "publish": "codereps.publish",
    "leaderboard": "eval_space.leaderboard.cli",
}


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codereps", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            # Only an area that is not installed at all is skipped; a broken import inside it is raised.
            if not (module_name == e.name or module_name.startswith(f"{e.name}.")):
                raise
            continue
        module.add_parser(subparsers)
    return parser


def main(argv=None) -> int:
    if argv is None:  # the process's own entry point (not a call from Python): the allocator can still change
        try:
            reexec_with_jemalloc(sys.argv[1:])
        except AllocatorError as e:
            print(f"codereps: error: {e}", file=sys.stderr)
            return USER_ERROR_STATUS
    silence_library_noise()
    args = make_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except Exception as e:
        message = user_error_message(e)
        if message is None or os.environ.get("CODEREPS_TRACEBACK") == "1":
            raise
        print(f"codereps {args.command}: error: {message}", file=sys.stderr)
        return USER_ERROR_STATUS


if __name__ == "__main__":
    sys.exit(main())
