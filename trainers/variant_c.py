"""IR-token variants' glue on the model side (C, C-plan): the extended vocabulary, its encoder, the resized model.

The tokenizer builder owns the vocabulary extension (which IR tokens, which ids)
and the initialisation of the new rows; this module only needs these things from
it, gathered in `IRTokens`:

- `tokenizer`: the extended HF tokenizer (saved next to the merged model),
- `base_vocab_size` / `vocab_size`: the new ids are `range(base_vocab_size, vocab_size)`,
- `encode_text(text)` / `encode_ir(ir)`: plain text under the base vocabulary, an IR in IR-token ids
  (`trainers.data.encode_example` writes prompt and target with them, wherever the IR sits),
- `init_new_embeddings(model, new_ids)`: fills the new rows after the resize,
- `render_ir(ir)`: the IR written as its added tokens, so the saved extended
  tokenizer alone encodes a C prompt to the same ids (what evaluation feeds it).

A warmed-up base model (`trainers.warmup`) already holds the IR tokens and their trained rows:
`base_has_ir_tokens` then makes the resize a no-op that keeps those rows.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace


class TokenizerMismatchError(ValueError):
    """The extended tokenizer was not built on this base model's vocabulary."""


@dataclass
class IRTokens:
    tokenizer: object
    base_vocab_size: int
    vocab_size: int
    encode_text: Callable  # text -> base-vocabulary ids
    encode_ir: Callable  # IR text -> IR-token ids
    init_new_embeddings: Callable | None = None
    render_ir: Callable | None = (
        None  # IR text -> the added tokens written out (prompts for the eval harness)
    )
    decode_ir: Callable | None = None  # IR-token ids -> IR text
    base_has_ir_tokens: bool = False  # the base model is already extended (a warm-up's output): keep its rows

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
    ir_tokens = IRTokens(
        tokenizer=extension.tokenizer,
        base_vocab_size=extension.base_vocab_size,
        vocab_size=extension.vocab_size,
        encode_text=extension.encode_text,
        encode_ir=extension.encode_ir,
        init_new_embeddings=extension.init_new_embeddings,
        render_ir=extension.render_ir,
        decode_ir=extension.decode_ir,
    )
    return for_base_tokenizer(ir_tokens, base_tokenizer, ir_tokenizer_dir)


def is_extended_by(base_tokenizer, ir_tokens: IRTokens) -> bool:
    """True when `base_tokenizer` already is the extended vocabulary (a warmed-up model's tokenizer)."""
    return len(base_tokenizer) == ir_tokens.vocab_size and (
        base_tokenizer.get_vocab() == ir_tokens.tokenizer.get_vocab()
    )


def for_base_tokenizer(ir_tokens: IRTokens, base_tokenizer, where: str) -> IRTokens:
    """`ir_tokens` checked against the base model's tokenizer: extended by it, or already extended (warm)."""
    if is_extended_by(base_tokenizer, ir_tokens):
        return replace(ir_tokens, base_has_ir_tokens=True)
    check_extends(base_tokenizer, ir_tokens.tokenizer, where)
    return ir_tokens


def resize_for_ir_tokens(model, ir_tokens: IRTokens) -> list[int]:
    """Grow the embeddings (and an untied head) to the extended vocabulary and initialise the new rows.

    A model may already have spare rows past its tokenizer (phi-1: 51200 rows, 50295 tokens); the new ids
    start right after the base tokenizer either way, so only a vocabulary past the rows needs a resize.
    Without the tokenizer builder's initialiser, new rows start at the mean of the base rows. The head bias
    of the new rows (phi-1 has one) is set to the mean base bias: it is neither trained nor saved in the
    adapter, so it must be rebuilt identically when the adapter is reloaded.

    A base that already holds the IR tokens (`base_has_ir_tokens`, a warm-up's output) keeps its rows:
    they are what the warm-up trained (and its head bias is the one the warm-up saved).
    """
    import torch

    rows = model.get_input_embeddings().weight.shape[0]
    base = ir_tokens.base_vocab_size
    if rows < base:
        raise TokenizerMismatchError(
            f"the base model has {rows} embedding rows but its tokenizer {base} tokens"
        )
    if ir_tokens.base_has_ir_tokens:
        if rows < ir_tokens.vocab_size:
            raise TokenizerMismatchError(
                f"the base model's tokenizer holds the IR tokens but it has only {rows} embedding rows "
                f"for {ir_tokens.vocab_size} tokens"
            )
        return ir_tokens.new_ids
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


def new_rows(model, new_ids: list[int]) -> dict:
    """Copies of the new ids' embedding rows and, for an untied head, output rows (a PEFT model's merged view)."""
    import torch

    embeddings = model.get_input_embeddings().weight
    head = model.get_output_embeddings()
    index = torch.tensor(new_ids, device=embeddings.device)
    with torch.no_grad():
        rows = {"input": embeddings.index_select(0, index).detach().float().cpu().clone()}
        head_weight = None if head is None else head.weight
        tied = (
            head_weight is None
            or head_weight.data_ptr() == embeddings.data_ptr()
            or _same_values(head_weight, embeddings)
        )
        rows["output"] = None if tied else head_weight.index_select(0, index).detach().float().cpu().clone()
    return rows


def _same_values(a, b) -> bool:
    # PEFT's merged views of a tied pair are two fresh tensors: tied means equal, not the same storage
    return a.shape == b.shape and bool((a == b).all())


def new_rows_change(before: dict, after: dict) -> dict:
    """How far training moved the new rows: Frobenius norm of the change, and relative to the rows' norm.

    `output` is None for a tied head (it is the embedding, `input` covers it).
    """

    def change(old, new):
        if old is None or new is None:
            return None
        delta = float((new - old).norm())
        return {"norm": round(delta, 6), "relative": round(delta / max(float(old.norm()), 1e-12), 6)}

    return {
        "rows": int(before["input"].shape[0]),
        "tied": before["output"] is None,
        "input": change(before["input"], after["input"]),
        "output": change(before["output"], after["output"]),
    }
