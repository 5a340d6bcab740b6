"""`codereps tokenizer train`: one Hub tokenizer repo folder per IR field.

    <output>/codereps-<field>-tokenizer/
        tokenizer.json, tokenizer_config.json, special_tokens_map.json,
        codereps_tokenizer.json, README.md        <- the default vocab size (largest unless chosen)
        vocab-500/ vocab-1000/ ...                <- every size, each loadable with subfolder="vocab-N"

Each size is trained on the train split, saved, reloaded with `AutoTokenizer`
as a user would, and checked on every held-out row (round trip, unknown
tokens, tokens per row against the base LM tokenizer). The folder is built in
a staging folder beside the output and moved in place only when complete, so
an existing tokenizer is replaced only with `--overwrite` and never left half
written.
"""

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .data import HELD_OUT_SPLITS, TRAIN_SPLITS, dataset_configs, load_field_texts, require_rows
from .errors import OutputExistsError, RoundTripError
from .measure import DEFAULT_BUDGETS, compression, length_stats, token_lengths
from .pretokenize import DEFAULT_SCHEME, make_pre_tokenizer
from .train import METADATA_FILE, TokenizerMetadata, check_round_trip, check_vocab_size, save_tokenizer_folder

ROOT_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", METADATA_FILE)


def repo_name(field_name: str) -> str:
    return f"codereps-{field_name}-tokenizer"


def vocab_subfolder(vocab_size: int) -> str:
    return f"vocab-{vocab_size}"


@dataclass
class BuildRequest:
    dataset: str
    fields: list[str]
    vocab_sizes: list[int]
    output: Path
    base_tokenizer: str
    configs: list[str] | None = None  # None: every function config of the dataset
    pretokenizer: str | None = None  # None: DEFAULT_SCHEME of the field
    default_vocab: int | None = None  # the size at the repo root; None: the largest
    namespace: str = "mrochk"
    overwrite: bool = False
    budgets: tuple[int, ...] = DEFAULT_BUDGETS
    progress: bool = True


@dataclass
class FieldBuild:
    field: str
    folder: Path
    metadata: dict[int, TokenizerMetadata] = field(default_factory=dict)


def check_request(request: BuildRequest) -> None:
    """Everything that can be refused before reading data or training (cheap, and nothing is written)."""
    for size in request.vocab_sizes:
        check_vocab_size(size)
    for field_name in request.fields:
        make_pre_tokenizer(field_name, request.pretokenizer or DEFAULT_SCHEME[field_name])
        target = Path(request.output) / repo_name(field_name)
        if target.exists() and not request.overwrite:
            raise OutputExistsError(f"output folder {target} exists: pass --overwrite to replace it")
    if request.default_vocab is not None and request.default_vocab not in request.vocab_sizes:
        raise ValueError(
            f"--default-vocab {request.default_vocab} is not among --vocab-size {request.vocab_sizes}"
        )


def build_tokenizers(request: BuildRequest) -> list[FieldBuild]:
    from codereps.base_models import base_model_description, load_base_tokenizer
    from model_cards.tokenizer_card import write_tokenizer_card

    check_request(request)
    configs = request.configs or dataset_configs(request.dataset)
    base = load_base_tokenizer(request.base_tokenizer)
    builds = []
    for field_name in request.fields:
        train = load_field_texts(request.dataset, configs, field_name, TRAIN_SPLITS)
        require_rows(train, request.dataset, "train")
        held_out = load_field_texts(request.dataset, configs, field_name, HELD_OUT_SPLITS)
        require_rows(held_out, request.dataset, "held-out (validation/test)")
        base_lengths = token_lengths(base, held_out.texts)
        _say(request, f"{field_name}: {len(train.texts)} train rows, {len(held_out.texts)} held-out rows")

        target = Path(request.output) / repo_name(field_name)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            build = FieldBuild(field_name, target)
            for size in sorted(request.vocab_sizes):
                build.metadata[size] = _train_one(
                    request, field_name, size, configs, train, held_out, base_lengths, staging
                )
            default = request.default_vocab or max(request.vocab_sizes)
            for name in ROOT_FILES:
                shutil.copy2(staging / vocab_subfolder(default) / name, staging / name)
            write_tokenizer_card(
                staging,
                field_name=field_name,
                repo_id=f"{request.namespace}/{target.name}",
                dataset=request.dataset,
                base_tokenizer=base_model_description(request.base_tokenizer),
                base_stats=length_stats(base_lengths, request.budgets),
                metadata=build.metadata,
                default_vocab=default,
            )
            staging.chmod(0o755)  # mkdtemp makes it private; a published folder is read by others
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _say(request, f"{field_name}: wrote {target}")
        builds.append(build)
    return builds


def _train_one(
    request, field_name, size, configs, train, held_out, base_lengths, staging
) -> TokenizerMetadata:
    from transformers import AutoTokenizer

    from .train import train_ir_tokenizer

    scheme = request.pretokenizer or DEFAULT_SCHEME[field_name]
    tokenizer = train_ir_tokenizer(train.texts, field_name, size, scheme)
    metadata = TokenizerMetadata(
        field=field_name,
        vocab_size=size,
        actual_vocab_size=tokenizer.get_vocab_size(),
        pretokenizer=scheme,
        dataset=request.dataset,
        configs=list(configs),
        train_rows=len(train.texts),
        train_chars=sum(len(t) for t in train.texts),
        skipped_empty_rows=train.skipped_empty,
        train_rows_per_split=dict(train.rows_per_split),
    )
    folder = staging / vocab_subfolder(size)
    save_tokenizer_folder(tokenizer, folder, metadata)

    reloaded = AutoTokenizer.from_pretrained(folder)  # judged exactly as a user loads it
    round_trip = check_round_trip(reloaded, held_out.texts)
    if not round_trip.ok:
        bad = round_trip.first_mismatch
        raise RoundTripError(
            f"{field_name} vocab {size}: {round_trip.rows - round_trip.exact} of {round_trip.rows} held-out rows "
            f"do not round-trip, {round_trip.unknown_tokens} unknown tokens"
            + (f"; first: {held_out.texts[bad][:200]!r}" if bad is not None else "")
        )
    ir_lengths = token_lengths(reloaded, held_out.texts)
    train_strings = set(train.texts)
    metadata.evaluation = {
        "held_out_rows": round_trip.rows,
        "held_out_skipped_empty_rows": held_out.skipped_empty,
        "round_trip_exact": round_trip.exact,
        "unknown_tokens": round_trip.unknown_tokens,
        # A held-out IR string that also occurs in train can be a single memorised token; say how many.
        "held_out_rows_also_in_train": sum(1 for t in held_out.texts if t in train_strings),
        "ir": length_stats(ir_lengths, request.budgets),
        "base": length_stats(base_lengths, request.budgets),
        **compression(base_lengths, ir_lengths),
    }
    (folder / METADATA_FILE).write_text(metadata.to_json() + "\n")
    _say(
        request,
        f"{field_name} vocab {size} ({metadata.actual_vocab_size} used): "
        f"{metadata.evaluation['ir']['mean']:.2f} tokens/row vs base {metadata.evaluation['base']['mean']:.2f} "
        f"-> {metadata.evaluation['ratio']:.2f}x; round trip {round_trip.exact}/{round_trip.rows}",
    )
    return metadata


def _say(request: BuildRequest, message: str) -> None:
    if request.progress:
        print(f"codereps tokenizer: {message}", file=sys.stderr)
