"""Variant C glue on the model side: the extended vocabulary, its encoder, and the resized model.

The tokenizer builder owns the vocabulary extension (which IR tokens, which ids)
and the initialisation of the new rows; this module only needs four things from
it, gathered in `IRTokens`:

- `tokenizer`: the extended HF tokenizer (saved next to the merged model),
- `base_vocab_size` / `vocab_size`: the new ids are `range(base_vocab_size, vocab_size)`,
- `encode(parts, completion) -> (input_ids, completion_mask)`: the IR span in IR tokens,
- `init_new_embeddings(model, new_ids)`: fills the new rows after the resize,
- `render_ir(ir)`: the IR written as its added tokens, so the saved extended
  tokenizer alone encodes a C prompt to the same ids (what evaluation feeds it).
"""

from collections.abc import Callable
from dataclasses import dataclass


class TokenizerMismatchError(ValueError):
    """The extended tokenizer was not built on this base model's vocabulary."""


@dataclass
class IRTokens:
    tokenizer: object
    base_vocab_size: int
    vocab_size: int
    encode: Callable
    init_new_embeddings: Callable | None = None
    render_ir: Callable | None = (
        None  # IR text -> the added tokens written out (prompts for the eval harness)
    )

    @property
    def new_ids(self) -> list[int]:
        return list(range(self.base_vocab_size, self.vocab_size))


def check_extends(base_tokenizer, extended_tokenizer, where: str) -> None:
    """Every base token must keep its id in the extended vocabulary, and there must be new ones."""
    base_vocab = base_tokenizer.get_vocab()
    ext_vocab = extended_tokenizer.get_vocab()
    moved = [tok for tok, i in base_vocab.items() if ext_vocab.get(tok) != i]
    if moved or len(ext_vocab) <= len(base_vocab):
        raise TokenizerMismatchError(
            f"{where}: the extended tokenizer does not extend this base model's tokenizer "
            f"({len(moved)} of {len(base_vocab)} base tokens missing or moved, "
            f"{len(ext_vocab) - len(base_vocab)} new tokens): build it for this base model"
        )


def load_ir_tokens(ir_tokenizer_dir: str, base_tokenizer) -> IRTokens:
    """The tokenizer builder's variant-C extension in `ir_tokenizer_dir` (or built from a plain IR tokenizer)."""
    from tokenizer_builder.extension import load_extension

    extension = load_extension(ir_tokenizer_dir, base_tokenizer)
    check_extends(base_tokenizer, extension.tokenizer, ir_tokenizer_dir)
    return IRTokens(
        tokenizer=extension.tokenizer,
        base_vocab_size=extension.base_vocab_size,
        vocab_size=extension.vocab_size,
        encode=extension.encode,
        init_new_embeddings=extension.init_new_embeddings,
        render_ir=extension.render_ir,
    )


def resize_for_ir_tokens(model, ir_tokens: IRTokens) -> list[int]:
    """Grow the embeddings (and an untied head) to the extended vocabulary and initialise the new rows.

    A model may already have spare rows past its tokenizer (phi-1: 51200 rows, 50295 tokens); the new ids
    start right after the base tokenizer either way, so only a vocabulary past the rows needs a resize.
    Without the tokenizer builder's initialiser, new rows start at the mean of the base rows. The head bias
    of the new rows (phi-1 has one) is set to the mean base bias: it is neither trained nor saved in the
    adapter, so it must be rebuilt identically when the adapter is reloaded.
    """
    import torch

    rows = model.get_input_embeddings().weight.shape[0]
    base = ir_tokens.base_vocab_size
    if rows < base:
        raise TokenizerMismatchError(
            f"the base model has {rows} embedding rows but its tokenizer {base} tokens"
        )
    if ir_tokens.vocab_size > rows:
        model.resize_token_embeddings(ir_tokens.vocab_size, mean_resizing=False)
    new_ids = ir_tokens.new_ids
    index = torch.tensor(new_ids)
    with torch.no_grad():
        matrices = {
            id(m.weight): m.weight for m in (model.get_input_embeddings(), model.get_output_embeddings()) if m
        }
        for weight in matrices.values():
            weight[index] = weight[:base].mean(dim=0).to(weight.dtype)
        head = model.get_output_embeddings()
        if head is not None and getattr(head, "bias", None) is not None:
            head.bias[index] = head.bias[:base].mean()
    if ir_tokens.init_new_embeddings is not None:
        ir_tokens.init_new_embeddings(model, new_ids)
    return new_ids
