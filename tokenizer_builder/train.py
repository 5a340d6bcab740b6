"""Train a byte-level BPE for one IR field and save it as a Hub tokenizer folder.

texts = load_field_texts(dataset, configs, "ast", TRAIN_SPLITS).texts
tok = train_ir_tokenizer(texts, "ast", vocab_size=1000)
save_tokenizer_folder(tok, folder, metadata)
check_round_trip(AutoTokenizer.from_pretrained(folder), held_out_texts)
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, trainers

from .errors import VocabSizeError
from .pretokenize import DEFAULT_SCHEME, byte_level, make_pre_tokenizer

BOS_EOS_TOKEN = "<|endoftext|>"
PAD_TOKEN = "<|pad|>"
SPECIAL_TOKENS = [BOS_EOS_TOKEN, PAD_TOKEN]
BYTE_ALPHABET_SIZE = 256
# Smallest vocabulary that still covers every byte: anything less could not encode all inputs.
MIN_VOCAB_SIZE = BYTE_ALPHABET_SIZE + len(SPECIAL_TOKENS)
# The codereps metadata file beside tokenizer.json: what the tokenizer was trained on and how.
METADATA_FILE = "codereps_tokenizer.json"


@dataclass
class TokenizerMetadata:
    field: str
    vocab_size: int  # requested
    actual_vocab_size: int  # BPE stops early when no pair is left to merge
    pretokenizer: str
    dataset: str
    configs: list[str]
    train_rows: int
    train_chars: int
    skipped_empty_rows: int
    train_rows_per_split: dict = field(default_factory=dict)  # "config/split" -> rows
    evaluation: dict = field(default_factory=dict)  # held-out round trip and compression, filled after saving

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def read(cls, folder: Path) -> "TokenizerMetadata":
        return cls(**json.loads((Path(folder) / METADATA_FILE).read_text()))


def check_vocab_size(vocab_size: int) -> None:
    if vocab_size < MIN_VOCAB_SIZE:
        raise VocabSizeError(
            f"vocab size {vocab_size} is smaller than the alphabet: {BYTE_ALPHABET_SIZE} bytes "
            f"+ {len(SPECIAL_TOKENS)} special tokens = {MIN_VOCAB_SIZE}"
        )


def train_ir_tokenizer(texts: list[str], field: str, vocab_size: int, scheme: str | None = None) -> Tokenizer:
    """A BPE over all 256 bytes (no unknown token is possible), cut by the IR grammar's `scheme`."""
    check_vocab_size(vocab_size)
    scheme = scheme or DEFAULT_SCHEME[field]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = make_pre_tokenizer(field, scheme)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=byte_level().alphabet(),  # every byte, seen in training or not
        min_frequency=2,  # a merge seen once is memorising a row, not learning the grammar
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer, length=len(texts))
    return tokenizer


def to_transformers(tokenizer: Tokenizer):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS_EOS_TOKEN,
        eos_token=BOS_EOS_TOKEN,
        pad_token=PAD_TOKEN,
        clean_up_tokenization_spaces=False,  # an IR string must decode byte for byte
        model_max_length=1_000_000,  # IR rows are long; truncation is the caller's choice
    )


def save_tokenizer_folder(tokenizer: Tokenizer, folder: Path, metadata: TokenizerMetadata) -> None:
    """tokenizer.json, tokenizer_config.json, special_tokens_map.json and the codereps metadata."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fast = to_transformers(tokenizer)
    fast.save_pretrained(folder)
    # transformers 5 writes its own class name (`TokenizersBackend`), which 4.x cannot resolve;
    # `PreTrainedTokenizerFast` names the same class in both.
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    # transformers 5 keeps the special tokens in tokenizer_config.json only; older loaders
    # (and the Hub's tokenizer widget) still read the separate map.
    special = {"bos_token": BOS_EOS_TOKEN, "eos_token": BOS_EOS_TOKEN, "pad_token": PAD_TOKEN}
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n")
    (folder / METADATA_FILE).write_text(metadata.to_json() + "\n")


@dataclass
class RoundTrip:
    rows: int
    exact: int
    unknown_tokens: int
    tokens: int
    first_mismatch: int | None  # index into the checked texts

    @property
    def ok(self) -> bool:
        return self.exact == self.rows and self.unknown_tokens == 0


def check_round_trip(hf_tokenizer, texts: list[str], batch_size: int = 512) -> RoundTrip:
    """decode(encode(x)) == x for every text, through the transformers tokenizer as users load it."""
    unk_id = hf_tokenizer.unk_token_id
    exact = unknown = tokens = 0
    first_mismatch = None
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        ids = hf_tokenizer(batch, add_special_tokens=False)["input_ids"]
        decoded = hf_tokenizer.batch_decode(ids, clean_up_tokenization_spaces=False)
        for offset, (text, row_ids, back) in enumerate(zip(batch, ids, decoded, strict=True)):
            tokens += len(row_ids)
            if unk_id is not None:
                unknown += sum(1 for i in row_ids if i == unk_id)
            if back == text:
                exact += 1
            elif first_mismatch is None:
                first_mismatch = start + offset
    return RoundTrip(len(texts), exact, unknown, tokens, first_mismatch)
