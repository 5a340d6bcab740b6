"""Pair datasets (`pairs-src-ast`, `pairs-src-cfg`, `pairs-ast-cfg`) and the tokenizers of their members.

A pair row is `a`, `b`, `label` (0 related, 1 swapped), `b_correct`, `func_name`.
The member names say which tokenizer reads which column: `src` is read by the
base code tokenizer, `ast` and `cfg` by their IR tokenizers.
"""

import hashlib
import json
import math
from dataclasses import dataclass

from .errors import EmptySplitError, PairConfigError, TokenizerMismatchError

PAIR_MEMBERS = {"src-ast": ("src", "ast"), "src-cfg": ("src", "cfg"), "ast-cfg": ("ast", "cfg")}
IR_MEMBERS = ("ast", "cfg")
PAIR_COLUMNS = ("a", "b", "label")


def pair_config_name(pair: str) -> str:
    if pair not in PAIR_MEMBERS:
        raise PairConfigError(f"unknown pair {pair!r}: choose one of {sorted(PAIR_MEMBERS)}")
    return f"pairs-{pair}"


def load_pair_split(dataset: str, pair: str, split: str):
    """One split of `pairs-<pair>` from a dataset folder or Hub repo, with columns `a`, `b`, `label`, ...

    The dataset builder names the member columns after the members (`src`, `ast`,
    `ast_correct`); they are renamed to `a`, `b`, `b_correct` here. Bad input raises a typed error.
    """
    from datasets import get_dataset_config_names

    from codereps.datasets_io import load_dataset_config

    config = pair_config_name(pair)
    available = get_dataset_config_names(dataset)
    if config not in available:
        raise PairConfigError(f"{dataset}: no config {config!r} (configs: {', '.join(available) or 'none'})")
    try:
        rows = load_dataset_config(dataset, config, split=split)
    except ValueError as e:
        # datasets reports an unknown split, and a split of zero rows, as a ValueError
        if "corresponds to no data" in str(e):
            raise EmptySplitError(f"{dataset} [{config}/{split}]: the split is empty") from e
        raise EmptySplitError(f"{dataset} [{config}]: cannot load split {split!r}: {e}") from e
    member_a, member_b = PAIR_MEMBERS[pair]
    renames = {member_a: "a", member_b: "b", f"{member_b}_correct": "b_correct"}
    if "a" not in rows.column_names:
        rows = rows.rename_columns({k: v for k, v in renames.items() if k in rows.column_names})
    missing = [c for c in PAIR_COLUMNS if c not in rows.column_names]
    if missing:
        raise PairConfigError(
            f"{dataset} [{config}/{split}]: missing columns {missing} (has {rows.column_names})"
        )
    if len(rows) == 0:
        raise EmptySplitError(f"{dataset} [{config}/{split}]: the split is empty")
    return rows


def load_tokenizer(name_or_path):
    """A tokenizer folder, or a base-model name `codereps.base_models` resolves (`smollm2`, a Hub id)."""
    from pathlib import Path

    from transformers import AutoTokenizer

    if not Path(str(name_or_path)).is_dir():
        from codereps.base_models import resolve_base_model

        name_or_path = resolve_base_model(str(name_or_path))
    return AutoTokenizer.from_pretrained(str(name_or_path))


def tokenizer_fingerprint(tokenizer) -> str:
    """A short hash of the vocabulary: the same ids for the same strings, or a different fingerprint."""
    vocab = sorted(tokenizer.get_vocab().items())
    return hashlib.sha256(json.dumps(vocab).encode()).hexdigest()[:16]


def check_tokenizer_matches(tokenizer, expected_fingerprint: str, expected_vocab_size: int, what: str):
    actual = tokenizer_fingerprint(tokenizer)
    if actual != expected_fingerprint or len(tokenizer) != expected_vocab_size:
        raise TokenizerMismatchError(
            f"{what}: tokenizer {getattr(tokenizer, 'name_or_path', '?')} (vocab {len(tokenizer)}, "
            f"fingerprint {actual}) does not match the model's (vocab {expected_vocab_size}, "
            f"fingerprint {expected_fingerprint})"
        )


@dataclass
class LengthChoice:
    """A sequence length chosen from a token-length distribution, and what it cuts off."""

    max_length: int
    mean: float
    std: float
    truncated_share: float

    def as_dict(self):
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def choose_max_length(lengths, cap: int | None = None) -> LengthChoice:
    """mean + 2 std of the lengths (the seed's rule), at least 1 and at most `cap`."""
    n = len(lengths)
    mean = sum(lengths) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in lengths) / max(n - 1, 1))
    max_length = max(1, math.ceil(mean + 2 * std))
    if cap is not None:
        max_length = min(max_length, cap)
    return LengthChoice(max_length, mean, std, truncated_share(lengths, max_length))


def truncated_share(lengths, max_length: int) -> float:
    return sum(1 for x in lengths if x > max_length) / max(len(lengths), 1)


def load_pair_splits(datasets_: list, pair: str, split: str, log=print):
    """`load_pair_split` over several dataset folders/repos (e.g. one per source), concatenated in order.

    A source without this split (the CodeSearchNet sample has no train split) is skipped with a note;
    only when no source has rows is it an error.
    """
    from datasets import concatenate_datasets

    if len(datasets_) == 1:
        return load_pair_split(datasets_[0], pair, split)
    parts, skipped = [], []
    for dataset in datasets_:
        try:
            parts.append(load_pair_split(dataset, pair, split))
        except EmptySplitError as e:
            skipped.append(str(e))
    for reason in skipped:
        log(f"note: skipped {reason}")
    if not parts:
        raise EmptySplitError(f"no rows in split {split!r} of {pair_config_name(pair)} in any of {datasets_}")
    columns = ["a", "b", "label", "b_correct", "func_name"]
    return concatenate_datasets(
        [p.select_columns([c for c in columns if c in p.column_names]) for p in parts]
    )
