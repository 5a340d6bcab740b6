"""Pair classifiers of phases 2 and 3: does this (SRC, AST), (SRC, CFG) or (AST, CFG) pair belong together?

`codereps classify train|eval` (trainers/classify_cli.py) drives them; the pieces:
`pair_data` (pair configs, tokenizers, sequence lengths), `dual_encoder` and
`extended_encoder` (the models), `features` (encoding and padding),
`pair_classifier` (one interface for the three architectures), `training`
(the transformers Trainer), `evaluation` (metrics, errors, plot), `outputs`
(JSON, leaderboard record, card).
"""

from .errors import (
    ClassifierInputError,
    EmptySplitError,
    MissingTokenizerError,
    PairConfigError,
    TokenizerMismatchError,
)
from .pair_classifier import ARCHS, PairClassifier, build_classifier, load_classifier

__all__ = [
    "ARCHS",
    "ClassifierInputError",
    "EmptySplitError",
    "MissingTokenizerError",
    "PairClassifier",
    "PairConfigError",
    "TokenizerMismatchError",
    "build_classifier",
    "load_classifier",
]
