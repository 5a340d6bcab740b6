"""The `codereps` command line: one entry point, one subcommand per area.

Each area module exposes `add_parser(subparsers)` and keeps its heavy imports
(torch, transformers, datasets) inside the function it runs, so `codereps
--help` and `codereps ir` start instantly.
"""

import argparse
import importlib
import sys

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
    args = make_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
