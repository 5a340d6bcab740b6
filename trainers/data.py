"""Training data for A/B/C: rows of the dataset repo -> prompt-completion examples.

A and B are text prompt-completion pairs (TRL tokenizes them and masks the
prompt out of the loss). C is pre-tokenized (`input_ids`, `completion_mask`),
because its IR span is written in the new IR tokens, which only the variant-C
encoder knows. Rows that cannot make an example (no IR for B/C) are counted and
reported with their task ids, never silently dropped.
"""

from dataclasses import dataclass, field

from codereps.datasets_io import load_dataset_config
from codereps.prompts import PromptError, prompt_parts, reference_solution


class DatasetConfigError(ValueError):
    """The dataset has no such config/split, or its rows lack a field the variant needs."""


@dataclass
class BuiltExamples:
    dataset: object  # datasets.Dataset
    skipped: list[str] = field(default_factory=list)  # "task_id: reason"


def load_split(dataset_name: str, config: str, split: str, limit: int | None = None):
    """`datasets.load_dataset(dataset_name, config, split=split)`, with errors that name the missing piece."""
    import datasets

    try:
        available = datasets.get_dataset_config_names(dataset_name)
    except Exception as e:  # a missing folder / unknown repo
        raise DatasetConfigError(f"cannot read dataset {dataset_name!r}: {e}") from e
    if config not in available:
        raise DatasetConfigError(
            f"dataset {dataset_name!r} has no config {config!r} (configs: {', '.join(available)}); "
            f"build it with `codereps dataset build`"
        )
    try:
        rows = load_dataset_config(dataset_name, config, split=split)
    except ValueError as e:
        raise DatasetConfigError(
            f"dataset {dataset_name!r} config {config!r}: no split {split!r} ({e})"
        ) from e
    if limit is not None:
        rows = rows.select(range(min(limit, len(rows))))
    return rows


def build_prompt_completion(rows, variant: str, ir: str) -> BuiltExamples:
    """Text `prompt`/`completion` pairs for variants A and B."""
    from datasets import Dataset

    examples, skipped = [], []
    for row in rows:
        try:
            parts = prompt_parts(row, variant, ir)
            examples.append({"prompt": parts.text, "completion": reference_solution(row)})
        except PromptError as e:
            skipped.append(str(e))
    if not examples:
        raise DatasetConfigError(
            f"no usable rows for variant {variant} (skipped {len(skipped)}: {skipped[:3]})"
        )
    return BuiltExamples(Dataset.from_list(examples), skipped)


def build_tokenized(rows, variant: str, ir: str, encode, eos_token_id: int, max_length: int) -> BuiltExamples:
    """Pre-tokenized `input_ids`/`completion_mask` examples; `encode(parts, completion) -> (ids, completion_mask)`.

    The EOS token ends every completion (as TRL does for text pairs) so the model learns to stop.
    """
    from datasets import Dataset

    examples, skipped = [], []
    for row in rows:
        try:
            parts = prompt_parts(row, variant, ir)
        except PromptError as e:
            skipped.append(str(e))
            continue
        ids, mask = encode(parts, reference_solution(row))
        ids, mask = list(ids) + [eos_token_id], list(mask) + [1]
        examples.append({"input_ids": ids[:max_length], "completion_mask": mask[:max_length]})
    if not examples:
        raise DatasetConfigError(
            f"no usable rows for variant {variant} (skipped {len(skipped)}: {skipped[:3]})"
        )
    return BuiltExamples(Dataset.from_list(examples), skipped)
