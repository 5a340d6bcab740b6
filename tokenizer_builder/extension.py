"""Variant C's vocabulary: the base LM tokenizer plus every IR token as an added token.

The added tokens are exactly the IR tokenizer's vocabulary (its special tokens
aside), in IR id order, each written `<field|TOKEN>` (e.g. `<cfg|[1][SEP1]>`).
The `<field|` opener can never occur in a base token, which `build_extension`
checks, so no added token collides with the base vocabulary, and base ids never
move: the new ids are `range(len(base_tokenizer), len(extended))`.

An example (prompt, IR, solution) is encoded with the prompt and the solution
under the base tokenizer and the IR under the IR tokenizer's BPE, mapped onto
the added ids. The same ids come out of the saved extended tokenizer alone when
it is given the text with the IR written as its added tokens (`render_ir`): the
added tokens split the text, and each side is encoded as the base encodes it.

    extension = build_extension(base_tokenizer, ir_tokenizer)   # or load_extension(folder)
    ids, completion_mask = extension.encode(parts, solution)      # parts: before_ir, ir, after_ir
    extension.init_new_embeddings(model)                          # after resizing the model
    extension.save_pretrained(folder)                             # folder/ + folder/ir_tokenizer/
"""

import copy
import json
from dataclasses import dataclass
from pathlib import Path

from .errors import TokenizerBuildError
from .train import METADATA_FILE as IR_METADATA_FILE

EXTENSION_FILE = "codereps_extension.json"
IR_TOKENIZER_SUBFOLDER = "ir_tokenizer"
TOKEN_FORMAT = "<{field}|{token}>"


class ExtensionError(TokenizerBuildError):
    """An extension that cannot be built or loaded (collision, mismatched tokenizers, missing files)."""


@dataclass
class EncodedExample:
    input_ids: list[int]
    completion_mask: list[int]  # 1 on the solution's tokens (the ones trained on)
    ir_span: tuple[int, int]  # [start, end) of the IR tokens in input_ids


def ir_token_opener(field: str) -> str:
    return TOKEN_FORMAT.format(field=field, token="")[:-1]  # "<field|"


class IRVocabularyExtension:
    def __init__(self, tokenizer, ir_tokenizer, field: str, base_vocab_size: int):
        self.tokenizer = tokenizer  # the extended tokenizer (a transformers fast tokenizer)
        self.ir_tokenizer = ir_tokenizer
        self.field = field
        self.base_vocab_size = base_vocab_size
        self.opener = ir_token_opener(field)
        # IR id -> extended id, over the IR tokens that were added (the IR special tokens are not).
        self._ir_to_extended = {}
        for ir_token, ir_id in ir_tokenizer.get_vocab().items():
            ext_id = tokenizer.convert_tokens_to_ids(self.token_text(ir_token))
            if ext_id is not None and ext_id >= base_vocab_size:
                self._ir_to_extended[ir_id] = ext_id
        self._extended_to_ir_token = {
            ext_id: ir_tokenizer.convert_ids_to_tokens(ir_id)
            for ir_id, ext_id in self._ir_to_extended.items()
        }

    @property
    def vocab_size(self) -> int:
        return len(self.tokenizer)

    @property
    def new_ids(self) -> list[int]:
        return list(range(self.base_vocab_size, self.vocab_size))

    def token_text(self, ir_token: str) -> str:
        return TOKEN_FORMAT.format(field=self.field, token=ir_token)

    def encode_ir(self, ir: str) -> list[int]:
        """The IR in added-token ids (the IR tokenizer's BPE segmentation)."""
        ir_ids = self.ir_tokenizer(ir, add_special_tokens=False)["input_ids"]
        try:
            return [self._ir_to_extended[i] for i in ir_ids]
        except KeyError as e:
            raise ExtensionError(
                f"IR id {e.args[0]} has no added token (a special token inside the IR?)"
            ) from e

    def render_ir(self, ir: str) -> str:
        """The IR written as its added tokens: the text the extended tokenizer alone encodes to `encode_ir`."""
        return "".join(self.tokenizer.convert_ids_to_tokens(self.encode_ir(ir)))

    def decode_ir(self, ids: list[int]) -> str:
        """Back from added-token ids to the IR string (ids that are not IR tokens are an error)."""
        tokens = []
        for i in ids:
            if i not in self._extended_to_ir_token:
                raise ExtensionError(f"id {i} is not an IR token of this extension")
            tokens.append(self._extended_to_ir_token[i])
        return self.ir_tokenizer.convert_tokens_to_string(tokens)

    def encode_text(self, text: str) -> list[int]:
        """Plain text under the base vocabulary (refuses text that would turn into IR tokens)."""
        if self.opener in text:
            raise ExtensionError(f"text contains the IR token opener {self.opener!r}: {text[:80]!r}")
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def encode_example(self, prompt: str, ir: str, solution: str, after_ir: str = "") -> EncodedExample:
        """prompt + IR + after_ir under (base, IR, base) as the prompt, then the solution under the base."""
        before = self.encode_text(prompt)
        ir_ids = self.encode_ir(ir) if ir else []
        after = self.encode_text(after_ir) if after_ir else []
        completion = self.encode_text(solution)
        prompt_ids = before + ir_ids + after
        return EncodedExample(
            input_ids=prompt_ids + completion,
            completion_mask=[0] * len(prompt_ids) + [1] * len(completion),
            ir_span=(len(before), len(before) + len(ir_ids)),
        )

    def encode(self, parts, completion: str) -> tuple[list[int], list[int]]:
        """The trainer's encoder: `parts` has `before_ir`, `ir`, `after_ir` (codereps.prompts.PromptParts)."""
        example = self.encode_example(parts.before_ir, parts.ir, completion, after_ir=parts.after_ir)
        return example.input_ids, example.completion_mask

    def new_token_texts(self, ids: list[int] | None = None) -> dict[int, str]:
        """Added id -> the IR text it stands for (what its embedding is initialised from)."""
        ids = self.new_ids if ids is None else ids
        return {i: self.decode_ir([i]) for i in ids}

    def init_new_embeddings(self, model, new_ids: list[int] | None = None, method: str = "mean") -> list[int]:
        return init_new_embeddings(model, self, new_ids, method)

    def save_pretrained(self, folder) -> Path:
        folder = Path(folder)
        self.tokenizer.save_pretrained(folder)
        self.ir_tokenizer.save_pretrained(folder / IR_TOKENIZER_SUBFOLDER)
        meta = {
            "field": self.field,
            "token_format": TOKEN_FORMAT,
            "base_vocab_size": self.base_vocab_size,
            "added_tokens": self.vocab_size - self.base_vocab_size,
            "ir_tokenizer_subfolder": IR_TOKENIZER_SUBFOLDER,
        }
        (folder / EXTENSION_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        return folder


def build_extension(base_tokenizer, ir_tokenizer, field: str | None = None) -> IRVocabularyExtension:
    """Add every IR token (special tokens aside) to a copy of `base_tokenizer`, in IR id order."""
    from tokenizers import AddedToken

    field = field or _ir_field(ir_tokenizer)
    opener = ir_token_opener(field)
    base_vocab = base_tokenizer.get_vocab()
    colliding = [token for token in base_vocab if opener in token]
    if colliding:
        raise ExtensionError(f"base tokens contain the IR token opener {opener!r}: {colliding[:5]}")
    special = set(ir_tokenizer.all_special_tokens)
    ir_tokens = [
        t for t, _ in sorted(ir_tokenizer.get_vocab().items(), key=lambda item: item[1]) if t not in special
    ]
    texts = [TOKEN_FORMAT.format(field=field, token=t) for t in ir_tokens]

    extended = copy.deepcopy(base_tokenizer)
    base_vocab_size = len(base_tokenizer)
    # normalized=False: matched on the raw text; special=False: decode(skip_special_tokens=True) keeps them.
    added = extended.add_tokens([AddedToken(t, normalized=False, special=False) for t in texts])
    ids = extended.convert_tokens_to_ids(texts)
    expected = list(range(base_vocab_size, base_vocab_size + len(texts)))
    if added != len(texts) or ids != expected:
        raise ExtensionError(
            f"added {added} of {len(texts)} IR tokens, not at ids {base_vocab_size}..: the base tokenizer "
            f"already holds some of them"
        )
    return IRVocabularyExtension(extended, ir_tokenizer, field, base_vocab_size)


def load_extension(folder, base_tokenizer=None) -> IRVocabularyExtension:
    """Load a saved extension; or, given `base_tokenizer`, build one from a plain IR tokenizer folder."""
    from transformers import AutoTokenizer

    folder = Path(folder)
    meta_path = folder / EXTENSION_FILE
    if not meta_path.exists():
        if base_tokenizer is not None and (folder / IR_METADATA_FILE).exists():
            return build_extension(base_tokenizer, AutoTokenizer.from_pretrained(folder))
        raise ExtensionError(
            f"{folder} is not a variant-C extension ({EXTENSION_FILE} missing): "
            f"make one with `codereps tokenizer extend --ir-tokenizer IR_TOKENIZER_DIR --output {folder}`"
        )
    meta = json.loads(meta_path.read_text())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    ir_tokenizer = AutoTokenizer.from_pretrained(folder / meta["ir_tokenizer_subfolder"])
    extension = IRVocabularyExtension(tokenizer, ir_tokenizer, meta["field"], meta["base_vocab_size"])
    if len(extension._ir_to_extended) != meta["added_tokens"] or extension.vocab_size != (
        meta["base_vocab_size"] + meta["added_tokens"]
    ):
        raise ExtensionError(
            f"{folder}: {len(extension._ir_to_extended)} IR tokens found among {extension.vocab_size} tokens, "
            f"metadata says {meta['added_tokens']} added to {meta['base_vocab_size']}"
        )
    return extension


def init_new_embeddings(
    model, extension: IRVocabularyExtension, new_ids=None, method: str = "mean"
) -> list[int]:
    """Initialise the rows of the added IR tokens; the model must already have rows for them.

    `mean`: each new row is the mean of the base rows of the IR token's text as the
    base tokenizer writes it (`FUNCTIONDEF_ARGUMENTS_` -> `FUNCTION`, `DEF`, `_`, ...),
    so a new token starts where the model already reads that text. Input embeddings
    and an untied output head get the same treatment; a tied head follows the input.
    `base_mean`: every new row is the mean of all base rows.
    """
    import torch

    if method not in ("mean", "base_mean"):
        raise ValueError(f"unknown initialisation {method!r} (mean, base_mean)")
    new_ids = extension.new_ids if new_ids is None else list(new_ids)
    base = extension.base_vocab_size
    embeddings = model.get_input_embeddings().weight
    if embeddings.shape[0] < extension.vocab_size:
        raise ExtensionError(
            f"the model has {embeddings.shape[0]} embedding rows, the extended vocabulary {extension.vocab_size}: "
            f"resize it first (model.resize_token_embeddings)"
        )
    texts = extension.new_token_texts(new_ids)
    pieces = {i: extension.encode_text(texts[i]) for i in new_ids}
    head = model.get_output_embeddings()
    matrices = [embeddings]
    if head is not None and head.weight is not embeddings:
        matrices.append(head.weight)
    with torch.no_grad():
        for weight in matrices:
            base_mean = weight[:base].float().mean(dim=0)
            for i in new_ids:
                ids = [p for p in pieces[i] if p < base]
                row = weight[ids].float().mean(dim=0) if (method == "mean" and ids) else base_mean
                weight[i] = row.to(weight.dtype)
    return new_ids


def _ir_field(ir_tokenizer) -> str:
    folder = Path(getattr(ir_tokenizer, "name_or_path", "") or "")
    meta = folder / IR_METADATA_FILE
    if not meta.exists():
        raise ExtensionError(
            f"cannot tell the IR field of tokenizer {folder}: pass field= (no {IR_METADATA_FILE})"
        )
    return json.loads(meta.read_text())["field"]
