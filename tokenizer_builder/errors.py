"""Typed errors of the tokenizer builder; the CLI prints their message and exits with status 2."""


class TokenizerBuildError(ValueError):
    """Base class: bad input to the tokenizer builder (the message names what and why)."""


class TokenizerDataError(TokenizerBuildError):
    """The dataset cannot give the rows asked for (names the dataset, config, split or field)."""


class VocabSizeError(TokenizerBuildError):
    """A vocabulary too small for the byte alphabet plus the special tokens."""


class OutputExistsError(TokenizerBuildError):
    """The output folder exists and `--overwrite` was not given."""


class RoundTripError(TokenizerBuildError):
    """A trained tokenizer did not give back a held-out row exactly."""
