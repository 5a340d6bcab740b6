"""Phase 3, extended: a pretrained encoder with a second embedding table for an IR tokenizer's vocabulary.

The pair is one sequence `[CLS] a [SEP] b [SEP]`. Positions whose `vocab_ids` is
0 hold ids of the text tokenizer and are embedded by the encoder's own word
embeddings; positions with `vocab_ids == k` hold ids of the k-th IR tokenizer and
are embedded by the new, trained table k. So an AST costs its IR-token count, not
the text tokenizer's (much longer) split of `MODULE_FUNCTIONDEF_...`.

A new table starts either from noise around the mean word embedding (`random`, the
default) or from what the encoder already knows about each IR token's words
(`subwords`: `CALL_ATTRIBUTE_NAME_LOAD` starts as the mean of the pretrained
embeddings of `call attribute name load`, the fast vocabulary transfer of Gee et al.,
2022). Either table trains at `--new-parameters-learning-rate`. Measured on src-ast
pairs, a `subwords` table trained at the encoder's (lower) rate did worse than a
`random` one at the head's rate: most IR tokens are mixes of the same few words, so
their means start nearly alike.
"""

import inspect
import re

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForSequenceClassification,
    PretrainedConfig,
    PreTrainedModel,
)

IR_EMBEDDING_INITS = ("subwords", "random")


class ExtendedEncoderConfig(PretrainedConfig):
    model_type = "codereps-extended-encoder"

    def __init__(self, encoder_config=None, ir_vocab_sizes=(), ir_embedding_init="random", **kwargs):
        # the wrapped encoder's own config, as a dict, so any AutoModelForSequenceClassification family fits
        self.encoder_config = dict(encoder_config or {})
        self.ir_vocab_sizes = list(ir_vocab_sizes)
        if ir_embedding_init not in IR_EMBEDDING_INITS:
            raise ValueError(f"ir_embedding_init {ir_embedding_init!r}: choose one of {IR_EMBEDDING_INITS}")
        self.ir_embedding_init = ir_embedding_init
        super().__init__(**kwargs)


def _hidden_size(config) -> int:
    return getattr(config, "hidden_size", None) or config.dim  # DistilBERT calls it `dim`


class ExtendedEncoderForPairClassification(PreTrainedModel):
    config_class = ExtendedEncoderConfig
    base_model_prefix = "extended_encoder"

    def __init__(self, config: ExtendedEncoderConfig, encoder=None):
        super().__init__(config)
        if encoder is None:
            encoder = AutoModelForSequenceClassification.from_config(
                AutoConfig.for_model(**config.encoder_config)
            )
        self.encoder = encoder
        hidden = _hidden_size(encoder.config)
        self.ir_embeddings = nn.ModuleList(nn.Embedding(size, hidden) for size in config.ir_vocab_sizes)
        self._takes_token_types = "token_type_ids" in inspect.signature(encoder.forward).parameters
        self.post_init()

    @classmethod
    def from_pretrained_encoder(cls, encoder_path: str, ir_tokenizers, text_tokenizer, init="random"):
        """Wrap a pretrained sequence classifier with one new table per IR tokenizer, started by `init`."""
        encoder = AutoModelForSequenceClassification.from_pretrained(encoder_path, num_labels=2)
        config = ExtendedEncoderConfig(
            encoder_config=encoder.config.to_dict(),
            ir_vocab_sizes=[len(t) for t in ir_tokenizers],
            ir_embedding_init=init,
        )
        model = cls(config, encoder=encoder)
        words = encoder.get_input_embeddings().weight.detach()
        with torch.no_grad():
            for table, ir_tokenizer in zip(model.ir_embeddings, ir_tokenizers, strict=True):
                if init == "subwords":
                    table.weight.copy_(subword_mean_embeddings(ir_tokenizer, text_tokenizer, words))
                else:
                    table.weight.copy_(words.mean(0) + torch.randn_like(table.weight) * words.std(0))
        return model

    def _init_weights(self, module):
        # only the IR tables are this class's own; the wrapped encoder initializes itself
        if isinstance(module, nn.Embedding) and any(module is t for t in getattr(self, "ir_embeddings", [])):
            nn.init.normal_(module.weight, std=0.02)

    def forward(self, input_ids, attention_mask, vocab_ids, token_type_ids=None, labels=None, **kwargs):
        embeds = self.encoder.get_input_embeddings()(input_ids.masked_fill(vocab_ids != 0, 0))
        for k, table in enumerate(self.ir_embeddings, start=1):
            in_table = vocab_ids == k
            ir_embeds = table(input_ids.masked_fill(~in_table, 0))
            embeds = torch.where(in_table.unsqueeze(-1), ir_embeds, embeds)
        extra = (
            {"token_type_ids": token_type_ids}
            if self._takes_token_types and token_type_ids is not None
            else {}
        )
        return self.encoder(inputs_embeds=embeds, attention_mask=attention_mask, labels=labels, **extra)


def spelled_out(ir_token: str) -> str:
    """`CALL_ATTRIBUTE_NAME_LOAD_` -> `CALL ATTRIBUTE NAME LOAD`: the words a text tokenizer knows."""
    return " ".join(re.split(r"[_\s]+", ir_token)).strip() or ir_token


def subword_mean_embeddings(ir_tokenizer, text_tokenizer, words: torch.Tensor) -> torch.Tensor:
    """One row per IR token: the mean of `words` (the encoder's embeddings) over its spelled-out pieces.

    Special tokens, and tokens the text tokenizer cannot split, keep the mean word embedding.
    """
    table = words.mean(0).repeat(len(ir_tokenizer), 1)
    specials = set(ir_tokenizer.all_special_ids)
    token_ids = [i for i in range(len(ir_tokenizer)) if i not in specials]
    texts = [spelled_out(ir_tokenizer.decode([i])) for i in token_ids]
    pieces = text_tokenizer(texts, add_special_tokens=False)["input_ids"]
    for token_id, piece_ids in zip(token_ids, pieces, strict=True):
        if piece_ids:
            table[token_id] = words[piece_ids].mean(0)
    return table


# As for the dual encoder: registered here, and a copy of this file with an `auto_map` in every saved folder.
AutoConfig.register(ExtendedEncoderConfig.model_type, ExtendedEncoderConfig, exist_ok=True)
AutoModel.register(ExtendedEncoderConfig, ExtendedEncoderForPairClassification, exist_ok=True)
ExtendedEncoderConfig.register_for_auto_class()
ExtendedEncoderForPairClassification.register_for_auto_class("AutoModel")
