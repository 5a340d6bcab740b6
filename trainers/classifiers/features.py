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
    """The plain cross-encoder: both members as text through the base tokenizer, cut longest-first.

    Each member is tokenized alone and the pair assembled here: the tokenizer's own pair truncation
    builds every combination of the two members' overflow windows, which for one 100k-token function
    (site-packages has them) exhausts memory.
    """
    template = PairTemplate.of(tokenizer)
    out = {"input_ids": [], "labels": batch["label"]}
    if template.has_token_types:
        out["token_type_ids"] = []
    budget = max_length - template.n_special
    for ids_a, ids_b in zip(token_ids(tokenizer, batch["a"]), token_ids(tokenizer, batch["b"]), strict=True):
        keep_a, keep_b = longest_first(len(ids_a), len(ids_b), budget)
        ids, types = template.join(ids_a[:keep_a], ids_b[:keep_b])
        out["input_ids"].append(ids)
        if template.has_token_types:
            out["token_type_ids"].append(types)
    return out


def longest_first(length_a: int, length_b: int, budget: int) -> tuple[int, int]:
    """How many tokens of each member `truncation="longest_first"` keeps, by the `tokenizers` rule:
    the longer is cut to leave room for the shorter; if both must be cut, each keeps half the budget
    (the longer, or the second on a tie, the odd token)."""
    if length_a + length_b <= budget:
        return length_a, length_b
    swap = length_a > length_b
    short, long = (length_b, length_a) if swap else (length_a, length_b)
    keep_long = min(long, short if short > budget else max(short, budget - short))
    keep_short = short
    if keep_short + keep_long > budget:
        keep_short, keep_long = budget // 2, budget // 2 + budget % 2
    return (keep_long, keep_short) if swap else (keep_short, keep_long)


@dataclass
class PairTemplate:
    """How a tokenizer lays out a pair: the probe's encoding `[CLS] a [SEP] b [SEP]` (BERT) cut around a and b."""

    ids: list  # probe ids with the one-token members at positions a_at and b_at
    types: list | None  # the probe's token types (None: the tokenizer has none)
    a_at: int
    b_at: int

    @property
    def n_special(self) -> int:
        return len(self.ids) - 2

    @property
    def has_token_types(self) -> bool:
        return self.types is not None

    @classmethod
    def of(cls, tokenizer):
        """Read off the tokenizer's own encoding of a probe pair of two one-token texts."""
        probe = token_ids(tokenizer, ["a", "b"])
        if any(len(ids) != 1 for ids in probe):
            raise ValueError(
                f"{type(tokenizer).__name__}: 'a' and 'b' are not one token each; cannot probe its pair format"
            )
        (a,), (b,) = probe
        encoded = tokenizer("a", "b")
        ids = encoded["input_ids"]
        a_at = ids.index(a)
        return cls(ids, encoded.get("token_type_ids"), a_at, ids.index(b, a_at + 1))

    def join(self, ids_a, ids_b):
        """The pair's ids (and token types): each probe member replaced by the real member's tokens."""
        ids = self._fill(self.ids, ids_a, ids_b)
        if self.types is None:
            return ids, None
        type_a, type_b = self.types[self.a_at], self.types[self.b_at]
        return ids, self._fill(self.types, [type_a] * len(ids_a), [type_b] * len(ids_b))

    def _fill(self, probe, a, b):
        i, j = self.a_at, self.b_at
        return [*probe[:i], *a, *probe[i + 1 : j], *b, *probe[j + 1 :]]


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
