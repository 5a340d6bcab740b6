"""Typed errors for bad classifier input: each names the file or config and the reason."""


class ClassifierInputError(ValueError):
    """Base class: the dataset, tokenizers or model folder given to `codereps classify` are unusable."""


class PairConfigError(ClassifierInputError):
    """The pair name is unknown, or the dataset has no `pairs-<pair>` config."""


class EmptySplitError(ClassifierInputError):
    """A split needed for training or evaluation has no rows."""


class TokenizerMismatchError(ClassifierInputError):
    """A tokenizer does not match the one the model was trained with."""


class MissingTokenizerError(ClassifierInputError):
    """An architecture needs a tokenizer for a pair member and none was given."""
