"""Read one text field of the codereps dataset (folder or Hub repo), split by split.

Tokenizers learn from the `train` splits only; everything they are judged on
comes from the held-out splits (`validation` + `test`). Rows whose field is
empty or null are counted and reported, never silently dropped.
"""

from dataclasses import dataclass, field

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


def load_config(dataset: str, config: str):
    """`load_dataset(dataset, config)`, with a content-keyed cache for local folders."""
    from codereps.datasets_io import load_dataset_config

    return load_dataset_config(dataset, config)


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
