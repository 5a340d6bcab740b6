"""Phase 2: the seed's from-scratch dual encoder, as a `transformers` model that saves and reloads.

Each pair member has its own small transformer encoder (token embeddings,
sinusoidal positions, a learned CLS vector in front, a padding mask) reading the
ids of its own tokenizer. The two CLS outputs are concatenated into a
feed-forward head that gives one logit: sigmoid(logit) is P(label 1 = swapped),
trained with binary cross-entropy as in the seed.
"""

import math

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput


class DualEncoderConfig(PretrainedConfig):
    model_type = "codereps-dual-encoder"

    def __init__(
        self,
        members=("src", "ast"),
        vocab_size_a=1000,
        vocab_size_b=1000,
        max_length_a=128,
        max_length_b=64,
        d_model_a=128,
        d_model_b=128,
        n_layers_a=2,
        n_layers_b=2,
        n_heads_a=4,
        n_heads_b=4,
        d_ff_encoder=512,
        d_ff_head=512,
        dropout=0.1,
        norm_first=False,
        pooling="cls",
        tokenizer_fingerprints=None,
        **kwargs,
    ):
        self.members = list(members)
        self.vocab_size_a = vocab_size_a
        self.vocab_size_b = vocab_size_b
        self.max_length_a = max_length_a
        self.max_length_b = max_length_b
        self.d_model_a = d_model_a
        self.d_model_b = d_model_b
        self.n_layers_a = n_layers_a
        self.n_layers_b = n_layers_b
        self.n_heads_a = n_heads_a
        self.n_heads_b = n_heads_b
        self.d_ff_encoder = d_ff_encoder
        self.d_ff_head = d_ff_head
        self.dropout = dropout
        self.norm_first = norm_first  # pre-LayerNorm layers; the seed used post-LayerNorm (False)
        if pooling not in ("cls", "mean"):
            raise ValueError(f"pooling must be 'cls' (the seed's) or 'mean', not {pooling!r}")
        self.pooling = pooling  # a member's vector: its CLS output, or the mean over its unpadded outputs
        # member -> vocabulary hash, checked when the model is used with a tokenizer
        self.tokenizer_fingerprints = dict(tokenizer_fingerprints or {})
        super().__init__(**kwargs)


def sinusoidal_positions(length: int, d_model: int, device) -> torch.Tensor:
    """The fixed positional encoding of "Attention is all you need", computed per call (no stored buffer)."""
    position = torch.arange(length, device=device, dtype=torch.float).unsqueeze(1)
    div = torch.exp(
        torch.arange(0, d_model, 2, device=device, dtype=torch.float) * (-math.log(10000.0) / d_model)
    )
    table = torch.zeros(length, d_model, device=device)
    table[:, 0::2] = torch.sin(position * div)
    table[:, 1::2] = torch.cos(position * div)[:, : d_model // 2]
    return table


class MemberEncoder(nn.Module):
    """One member's encoder: ids -> one vector (the CLS output, or the mean output)."""

    def __init__(
        self, vocab_size, d_model, n_layers, n_heads, d_ff, dropout, norm_first=False, pooling="cls"
    ):
        super().__init__()
        self.d_model, self.pooling = d_model, pooling
        self.embeddings = nn.Embedding(vocab_size, d_model)
        self.cls = nn.Parameter(torch.zeros(d_model))
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, d_ff, dropout, batch_first=True, norm_first=norm_first
        )
        # nested tensors make eval outputs depend on the padding layout; plain tensors keep reloads identical
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)

    def forward(self, input_ids, attention_mask):
        batch = input_ids.shape[0]
        tokens = self.embeddings(input_ids) * math.sqrt(self.d_model)
        x = torch.cat([self.cls.expand(batch, 1, -1), tokens], dim=1)
        x = x + sinusoidal_positions(x.shape[1], self.d_model, x.device)
        keep = torch.cat([attention_mask.new_ones(batch, 1), attention_mask], dim=1).bool()
        out = self.encoder(x, src_key_padding_mask=~keep)
        if self.pooling == "cls":
            return out[:, 0]
        weights = keep.unsqueeze(-1).to(out.dtype)
        return (out * weights).sum(1) / weights.sum(1)


class DualEncoderForPairClassification(PreTrainedModel):
    config_class = DualEncoderConfig
    base_model_prefix = "dual_encoder"
    main_input_name = "input_ids_a"

    def __init__(self, config: DualEncoderConfig):
        super().__init__(config)
        c = config
        self.encoder_a = MemberEncoder(
            c.vocab_size_a,
            c.d_model_a,
            c.n_layers_a,
            c.n_heads_a,
            c.d_ff_encoder,
            c.dropout,
            c.norm_first,
            c.pooling,
        )
        self.encoder_b = MemberEncoder(
            c.vocab_size_b,
            c.d_model_b,
            c.n_layers_b,
            c.n_heads_b,
            c.d_ff_encoder,
            c.dropout,
            c.norm_first,
            c.pooling,
        )
        self.head = nn.Sequential(
            nn.Linear(c.d_model_a + c.d_model_b, c.d_ff_head), nn.ReLU(), nn.Linear(c.d_ff_head, 1)
        )
        self.post_init()

    def _init_weights(self, module):
        if isinstance(module, MemberEncoder):
            # token vectors of unit variance after the sqrt(d) scaling, like the sinusoidal positions they are
            # added to: with the usual std 0.02 the positions drown the tokens and training stalls for hundreds
            # of steps at loss 0.693 (seen on the stdlib src-ast run)
            nn.init.normal_(module.embeddings.weight, std=module.d_model**-0.5)
            nn.init.normal_(module.cls, std=1.0)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    def forward(self, input_ids_a, attention_mask_a, input_ids_b, attention_mask_b, labels=None, **kwargs):
        cls_a = self.encoder_a(input_ids_a, attention_mask_a)
        cls_b = self.encoder_b(input_ids_b, attention_mask_b)
        logits = self.head(torch.cat([cls_a, cls_b], dim=-1))
        loss = None
        if labels is not None:
            loss = nn.functional.binary_cross_entropy_with_logits(logits.squeeze(-1), labels.float())
        return SequenceClassifierOutput(loss=loss, logits=logits)


# In this process `AutoModel.from_pretrained(folder)` finds the classes by model type; a saved folder also
# gets a copy of this file and an `auto_map`, so `trust_remote_code=True` loads it without codereps installed.
AutoConfig.register(DualEncoderConfig.model_type, DualEncoderConfig, exist_ok=True)
AutoModel.register(DualEncoderConfig, DualEncoderForPairClassification, exist_ok=True)
DualEncoderConfig.register_for_auto_class()
DualEncoderForPairClassification.register_for_auto_class("AutoModel")
