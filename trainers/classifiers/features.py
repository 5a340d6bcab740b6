"""Turning pair rows into model inputs, and padding them into batches.

Rows are tokenized once with `Dataset.map` (unpadded, truncated to the chosen
lengths); the collator pads each batch only to its own longest row, which on
CPU is much cheaper than padding everything to the maximum.
"""

from dataclasses import dataclass

import torch


def token_ids(tokenizer, texts):
    """Ids without special tokens: the architectures add their own CLS/SEP."""
    return tokenizer(list(texts), add_special_tokens=False)["input_ids"]


def token_lengths(tokenizer, texts):
    return [len(ids) for ids in token_ids(tokenizer, texts)]


def encode_dual(batch, tokenizer_a, tokenizer_b, max_length_a, max_length_b):
    return {
        "input_ids_a": [ids[:max_length_a] for ids in token_ids(tokenizer_a, batch["a"])],
        "input_ids_b": [ids[:max_length_b] for ids in token_ids(tokenizer_b, batch["b"])],
        "labels": batch["label"],
    }


def encode_text_pair(batch, tokenizer, max_length):
    """The plain cross-encoder: both members as text through the base tokenizer, cut longest-first."""
    enc = tokenizer(list(batch["a"]), list(batch["b"]), truncation="longest_first", max_length=max_length)
    out = {"input_ids": enc["input_ids"], "labels": batch["label"]}
    if "token_type_ids" in enc:
        out["token_type_ids"] = enc["token_type_ids"]
    return out


def encode_extended(batch, text_tokenizer, member_tokenizers, max_length_a, max_length_b):
    """`[CLS] a [SEP] b [SEP]` where an IR member's ids come from its own tokenizer and embedding table.

    `member_tokenizers` is `[(tokenizer, table), (tokenizer, table)]` for a and b; table 0 is the text
    vocabulary, k > 0 the k-th IR table of the model.
    """
    (tok_a, table_a), (tok_b, table_b) = member_tokenizers
    cls, sep = text_tokenizer.cls_token_id, text_tokenizer.sep_token_id
    out = {"input_ids": [], "vocab_ids": [], "token_type_ids": [], "labels": batch["label"]}
    for ids_a, ids_b in zip(token_ids(tok_a, batch["a"]), token_ids(tok_b, batch["b"]), strict=True):
        ids_a, ids_b = ids_a[:max_length_a], ids_b[:max_length_b]
        out["input_ids"].append([cls, *ids_a, sep, *ids_b, sep])
        out["vocab_ids"].append([0] + [table_a] * len(ids_a) + [0] + [table_b] * len(ids_b) + [0])
        out["token_type_ids"].append([0] * (len(ids_a) + 2) + [1] * (len(ids_b) + 1))
    return out


@dataclass
class PadCollator:
    """Pads list columns to the batch's longest row; each `input_ids<suffix>` gets an `attention_mask<suffix>`."""

    pad_values: dict  # column -> padding id

    def __call__(self, features):
        batch = {}
        for column, pad in self.pad_values.items():
            rows = [f[column] for f in features]
            width = max(len(r) for r in rows)
            batch[column] = torch.tensor([r + [pad] * (width - len(r)) for r in rows], dtype=torch.long)
            if column.startswith("input_ids"):
                mask = [[1] * len(r) + [0] * (width - len(r)) for r in rows]
                batch["attention_mask" + column[len("input_ids") :]] = torch.tensor(mask, dtype=torch.long)
        batch["labels"] = torch.tensor([f["labels"] for f in features], dtype=torch.long)
        return batch
