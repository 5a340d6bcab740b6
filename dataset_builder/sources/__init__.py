"""Input sources of the dataset: each turns its input into rows of `src` + upstream metadata.

`make_source(name, input_path)` returns the source object; see `base.py` for the
contract every source follows.
"""

from .base import Skip, Source, SourceRow

SOURCE_NAMES = ("codesearchnet", "mbpp", "humaneval", "local", "hub-files")


def make_source(name: str, input_path=None, language: str = "Python") -> Source:
    if name == "codesearchnet":
        from .codesearchnet import codesearchnet_source

        return codesearchnet_source(input_path)  # no --input: code-search-net/code_search_net on the Hub
    if name == "mbpp":
        from .mbpp import mbpp_source

        return mbpp_source(input_path)  # no --input: google-research-datasets/mbpp on the Hub
    if name == "humaneval":
        from .humaneval import HumanEvalSource

        return HumanEvalSource(input_path)
    if name == "local":
        from .local import LocalFolderSource

        return LocalFolderSource(_required(name, input_path))
    if name == "hub-files":
        from .hub_files import HubFilesSource

        return HubFilesSource(_required(name, input_path), language)
    raise ValueError(f"unknown source {name!r}; expected one of {', '.join(SOURCE_NAMES)}")


def _required(name, input_path):
    if input_path is None:
        raise ValueError(
            f"--source {name} needs --input (no Hub access here; see `codereps dataset build --help`)"
        )
    return input_path


__all__ = ["SOURCE_NAMES", "Skip", "Source", "SourceRow", "make_source"]
