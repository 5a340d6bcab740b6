"""Read one text field of the codereps dataset (folder or Hub repo), split by split.

Tokenizers learn from the `train` splits only; everything they are judged on
comes from the held-out splits (`validation` + `test`). Rows whose field is
empty or null are counted and reported, never silently dropped.
"""

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import TokenizerDataError

TRAIN_SPLITS = ("train",)
HELD_OUT_SPLITS = ("validation", "test")
# Pair configs hold the same functions again, two columns at a time: never training data here.
PAIR_CONFIG_PREFIX = "pairs-"


@dataclass
class FieldTexts:
    field: str
    texts: list[str] = field(default_factory=list)
    skipped_empty: int = 0
    rows_per_split: dict[str, int] = field(default_factory=dict)  # "config/split" -> rows kept


def dataset_configs(dataset: str) -> list[str]:
    """The dataset's function configs (every config except the pair views)."""
    from datasets import get_dataset_config_names

    try:
        names = get_dataset_config_names(dataset)
    except Exception as e:  # datasets raises FileNotFoundError, DatasetNotFoundError, ValueError...
        raise TokenizerDataError(f"dataset {dataset!r}: cannot be read: {e}") from e
    configs = [name for name in names if not name.startswith(PAIR_CONFIG_PREFIX)]
    if not configs:
        raise TokenizerDataError(f"dataset {dataset!r}: no function configs (found {names})")
    return configs


def local_cache_dir(folder: Path) -> str:
    """A `datasets` cache folder keyed on the folder's path and every file's size and mtime.

    datasets 5.2 keys the cache of a local folder on its name and README alone: two
    folders both named `ds`, or a folder rebuilt in place with new rows, load the rows
    cached first (measured here). Keying on the files makes a rebuilt folder load anew.
    """
    from codereps.paths import cache_dir

    digest = hashlib.sha256(str(folder.resolve()).encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return str(cache_dir() / "datasets" / digest.hexdigest()[:16])


def load_config(dataset: str, config: str):
    """`load_dataset(dataset, config)`, with a content-keyed cache for local folders."""
    from datasets import load_dataset

    folder = Path(dataset)
    cache = local_cache_dir(folder) if folder.is_dir() else None
    return load_dataset(dataset, config, cache_dir=cache)


def load_field_texts(
    dataset: str, configs: list[str], field_name: str, splits: tuple[str, ...]
) -> FieldTexts:
    """All non-empty values of `field_name` in `splits` of `configs` (a split a config lacks is skipped)."""
    result = FieldTexts(field_name)
    for config in configs:
        try:
            dataset_dict = load_config(dataset, config)
        except Exception as e:
            if "corresponds to no data" in str(e):  # datasets' words for a config whose files hold no rows
                raise TokenizerDataError(
                    f"dataset {dataset!r} config {config!r}: empty (no rows in any split)"
                ) from e
            raise TokenizerDataError(f"dataset {dataset!r} config {config!r}: cannot be loaded: {e}") from e
        for split in splits:
            if split not in dataset_dict:
                continue
            part = dataset_dict[split]
            if field_name not in part.column_names:
                raise TokenizerDataError(
                    f"dataset {dataset!r} config {config!r} split {split!r}: no field {field_name!r} "
                    f"(columns: {', '.join(part.column_names)})"
                )
            kept = 0
            for value in part[field_name]:
                if not value:
                    result.skipped_empty += 1
                    continue
                if not isinstance(value, str):
                    raise TokenizerDataError(
                        f"dataset {dataset!r} config {config!r} split {split!r}: field {field_name!r} "
                        f"holds {type(value).__name__}, not text"
                    )
                result.texts.append(value)
                kept += 1
            result.rows_per_split[f"{config}/{split}"] = kept
    return result


def require_rows(texts: FieldTexts, dataset: str, what: str) -> None:
    if not texts.texts:
        raise TokenizerDataError(
            f"dataset {dataset!r}: no {what} rows with a non-empty {texts.field!r} "
            f"(splits read: {texts.rows_per_split or 'none'}, empty values skipped: {texts.skipped_empty})"
        )
