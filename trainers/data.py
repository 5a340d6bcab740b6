"""Training data of every variant: rows of the dataset repo -> prompt-completion examples.

What a variant trains on comes from `codereps.prompts` (`variant_examples`): the
task row, its IR in the prompt (B, C) or at the start of the target (B-plan,
C-plan), and for A-aux two translation rows per solution (source -> IR, IR ->
source) plus, if given, translation rows of an auxiliary corpus.

Text variants make text `prompt`/`completion` pairs (TRL tokenizes them and
masks the prompt out of the loss). IR-token variants (C, C-plan) are
pre-tokenized (`input_ids`, `completion_mask`), because their IR span is written
in the new IR tokens, which only the extended encoder knows. Rows that cannot
make an example (no IR) are counted and reported with their task ids, never
silently dropped.
"""

from dataclasses import dataclass, field

from codereps.datasets_io import load_dataset_config
from codereps.prompts import Example, PromptError, check_variant, translation_examples, variant_examples


class DatasetConfigError(ValueError):
    """The dataset has no such config/split, or its rows lack a field the variant needs."""


@dataclass
class BuiltExamples:
    dataset: object  # datasets.Dataset
    skipped: list[str] = field(default_factory=list)  # "task_id: reason"
    kinds: dict = field(default_factory=dict)  # example kind ("task", "source->ir", "ir->source") -> count


def split_dataset_spec(spec: str) -> tuple[str, str | None]:
    """`DATASET[:CONFIG]` -> (dataset, config or None); a colon inside a path's folders is not a config."""
    dataset, sep, config = spec.rpartition(":")
    if not sep or not dataset or "/" in config or "\\" in config:
        return spec, None
    return dataset, config or None


def resolve_dataset_config(dataset_name: str, config: str | None) -> str:
    """The config to read: the given one, else the dataset's only one (several: an error naming them)."""
    import datasets

    if config is not None:
        return config
    try:
        available = datasets.get_dataset_config_names(dataset_name)
    except Exception as e:  # a missing folder / unknown repo
        raise DatasetConfigError(f"cannot read dataset {dataset_name!r}: {e}") from e
    if len(available) != 1:
        raise DatasetConfigError(
            f"dataset {dataset_name!r} has configs {', '.join(available)}: name one as {dataset_name}:CONFIG"
        )
    return available[0]


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


def task_examples(rows, variant, ir: str) -> tuple[list[Example], list[str]]:
    """Every example `variant` makes of `rows`, and the rows (or auxiliary rows) that could make none."""
    variant = check_variant(variant)
    examples, skipped = [], []
    for row in rows:
        try:
            made, aux_skipped = variant_examples(row, variant, ir)
        except PromptError as e:
            skipped.append(str(e))
            continue
        examples += made
        skipped += aux_skipped
    if not any(e.kind == "task" for e in examples):
        raise DatasetConfigError(
            f"no usable rows for variant {variant.name} (skipped {len(skipped)}: {skipped[:3]})"
        )
    return examples, skipped


def corpus_translation_examples(rows, ir: str, where: str) -> tuple[list[Example], list[str]]:
    """Source <-> IR rows (both directions) of a corpus's rows (`src` and the IR field), e.g. a warm-up corpus."""
    examples, skipped = [], []
    for i, row in enumerate(rows):
        if not row.get("src") or not row.get(ir):
            reason = row.get("error") or f"no `src` or {ir!r}"
            skipped.append(f"{where} row {i}: {reason}")
            continue
        examples += translation_examples(row["src"], row[ir], ir)
    return examples, skipped


def _kinds(examples: list[Example]) -> dict:
    counts = {}
    for e in examples:
        counts[e.kind] = counts.get(e.kind, 0) + 1
    return counts


def build_text_examples(examples: list[Example], skipped: list[str] | None = None) -> BuiltExamples:
    """Text `prompt`/`completion` pairs (text variants: the IR, if any, under the base tokenizer)."""
    from datasets import Dataset

    rows = [{"prompt": e.prompt.text, "completion": e.target.text} for e in examples]
    return BuiltExamples(Dataset.from_list(rows), list(skipped or []), _kinds(examples))


def encode_example(example: Example, ir_tokens) -> tuple[list[int], list[int]]:
    """(input_ids, completion_mask) with every IR span in IR tokens and the rest under the base vocabulary.

    Each span is encoded on its own, as the extended tokenizer splits a text at its added tokens, so the
    prompt's ids are exactly those of its text with the IR rendered as added tokens (what evaluation feeds).
    """
    ids, mask = [], []
    for parts, trained in ((example.prompt, 0), (example.target, 1)):
        for text, is_ir in ((parts.before_ir, False), (parts.ir, True), (parts.after_ir, False)):
            if not text:
                continue
            span = ir_tokens.encode_ir(text) if is_ir else ir_tokens.encode_text(text)
            ids += span
            mask += [trained] * len(span)
    return ids, mask


def build_tokenized_examples(
    examples: list[Example], ir_tokens, eos_token_id: int, max_length: int, skipped: list[str] | None = None
) -> BuiltExamples:
    """Pre-tokenized `input_ids`/`completion_mask` examples (IR-token variants).

    The EOS token ends every completion (as TRL does for text pairs) so the model learns to stop.
    """
    from datasets import Dataset

    rows = []
    for example in examples:
        ids, mask = encode_example(example, ir_tokens)
        ids, mask = ids + [eos_token_id], mask + [1]
        rows.append({"input_ids": ids[:max_length], "completion_mask": mask[:max_length]})
    return BuiltExamples(Dataset.from_list(rows), list(skipped or []), _kinds(examples))


def build_examples(
    examples: list[Example],
    skipped: list[str],
    ir_tokens=None,
    eos_token_id: int | None = None,
    max_length: int = 1024,
) -> BuiltExamples:
    """Pre-tokenized with `ir_tokens` (IR-token variants), else text pairs."""
    if ir_tokens is None:
        return build_text_examples(examples, skipped)
    return build_tokenized_examples(examples, ir_tokens, eos_token_id, max_length, skipped)
