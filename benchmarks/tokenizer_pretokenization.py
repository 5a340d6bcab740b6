"""Which pre-tokenization compresses each IR best: every grammar-based scheme at every vocab size.

    .venv/bin/python benchmarks/tokenizer_pretokenization.py                       # funcskeleton's stdlib rows
    .venv/bin/python benchmarks/tokenizer_pretokenization.py --dataset build/ds --config mbpp codesearchnet local

For each field (`ast`, `cfg`), scheme (tokenizer_builder.pretokenize.SCHEMES)
and vocab size, a BPE is trained on the train rows and measured on the held-out
rows: mean tokens per row, the ratio against the base LM tokenizer (run in the
same process on the same rows: the baseline), exact round trips, unknown tokens,
training seconds and encoding rows/s (IR tokenizer vs base tokenizer).

One extra, non-default line per field trains on the characters seen in
training instead of all 256 bytes (`seen-chars`): it frees ~220 vocabulary
slots, which matters at 500, but any unseen character becomes `<unk>` (the
rate is shown), so it is not byte-level safe and is not used.

Measured here (2026-11-26, funcskeleton stdlib golden rows split 80/10/10 by
file path: 2591 train, 578 held-out; SmolLM2 tokenizer as base, 145.3 tokens per
AST and 39.2 per CFG):

    ast whole   500/1000/2000/5000: 6.2x / 11.6x / 14.6x / 16.9x   <- default
    ast node    2.8x at every size (only 545 distinct node tokens exist)
    cfg whole   5.8x / 8.1x / 9.3x / 9.5x                          <- default
    cfg sections 3.4x / 4.0x / 4.2x / 4.2x
    cfg brackets 2.6x at every size
    seen-chars (not byte-safe)  ast 9.4x / 12.6x / 14.9x / 16.9x, cfg 7.2x / 8.5x / 9.5x / 9.5x,
                                0 unknown tokens on these held-out rows (the IR alphabets are closed)

So the byte alphabet costs compression only at 500-1000, where 256 of the slots
hold bytes the IRs never use; from 2000 up the two are within 3%.
"""

import argparse
import gzip
import hashlib
import json
import statistics
import time


def make_parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--dataset", help="dataset folder or repo (default: the funcskeleton golden file, split by path)"
    )
    p.add_argument("--config", nargs="+", help="dataset configs (default: every non-pair config)")
    p.add_argument("--vocab-size", nargs="+", type=int, default=[500, 1000, 2000, 5000])
    p.add_argument("--base-tokenizer", default="smollm2", help="base LM tokenizer (Hub id, folder, smollm2)")
    p.add_argument("--json", help="also write the figures to this JSON file")
    return p


def golden_splits() -> dict[str, dict[str, list[str]]]:
    from codereps.paths import shared_data_dir

    texts = {field: {"train": [], "held_out": []} for field in ("ast", "cfg")}
    with gzip.open(shared_data_dir() / "funcskeleton" / "stdlib_golden.jsonl.gz", "rt") as f:
        for line in f:
            row = json.loads(line)
            bucket = int(hashlib.sha256(row["path"].encode()).hexdigest(), 16) % 10
            split = "train" if bucket < 8 else "held_out"
            for field in texts:
                texts[field][split].append(row[field])
    return texts


def dataset_splits(dataset: str, configs) -> dict[str, dict[str, list[str]]]:
    from tokenizer_builder.data import HELD_OUT_SPLITS, TRAIN_SPLITS, dataset_configs, load_field_texts

    configs = configs or dataset_configs(dataset)
    return {
        field: {
            "train": load_field_texts(dataset, configs, field, TRAIN_SPLITS).texts,
            "held_out": load_field_texts(dataset, configs, field, HELD_OUT_SPLITS).texts,
        }
        for field in ("ast", "cfg")
    }


def train_seen_chars(texts: list[str], vocab_size: int):
    """The non-default alternative: alphabet = characters seen in training, `<unk>` for the rest."""
    from tokenizers import Tokenizer, decoders, models, trainers

    from tokenizer_builder.pretokenize import byte_level

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = byte_level()
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=["<unk>"], min_frequency=2, show_progress=False
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def measure(tokenizer, held_out: list[str], base_lengths: list[int], base_rows_per_s: float) -> dict:
    start = time.perf_counter()
    encodings = tokenizer.encode_batch(held_out)
    rows_per_s = len(held_out) / (time.perf_counter() - start)
    lengths = [len(e.ids) for e in encodings]
    unk_id = tokenizer.token_to_id("<unk>")
    decoded = tokenizer.decode_batch([e.ids for e in encodings])
    return {
        "mean_tokens": statistics.mean(lengths),
        "ratio": sum(base_lengths) / sum(lengths),
        "round_trip_exact": sum(1 for a, b in zip(held_out, decoded, strict=True) if a == b),
        "unknown_tokens": sum(e.ids.count(unk_id) for e in encodings) if unk_id is not None else 0,
        "encode_rows_per_s": rows_per_s,
        "encode_speedup_vs_base": rows_per_s / base_rows_per_s,
    }


def main(args) -> list[dict]:
    from codereps.base_models import load_base_tokenizer
    from tokenizer_builder.pretokenize import DEFAULT_SCHEME, SCHEMES
    from tokenizer_builder.train import train_ir_tokenizer

    splits = dataset_splits(args.dataset, args.config) if args.dataset else golden_splits()
    base = load_base_tokenizer(args.base_tokenizer).backend_tokenizer
    results = []
    for field, texts in splits.items():
        held_out = texts["held_out"]
        start = time.perf_counter()
        base_lengths = [len(e.ids) for e in base.encode_batch(held_out, add_special_tokens=False)]
        base_rows_per_s = len(held_out) / (time.perf_counter() - start)
        print(
            f"\n{field}: {len(texts['train'])} train rows, {len(held_out)} held-out rows; "
            f"base {statistics.mean(base_lengths):.1f} tokens/row, {base_rows_per_s:.0f} rows/s"
        )
        print(
            f"{'scheme':<12}{'vocab':>6}{'used':>6}{'tokens':>8}{'ratio':>8}{'exact':>8}{'unk':>6}{'train s':>8}{'enc x':>7}"
        )
        candidates = [(scheme, train_ir_tokenizer) for scheme in SCHEMES[field]]
        candidates.append(("seen-chars", None))
        for scheme, trainer in candidates:
            for size in args.vocab_size:
                start = time.perf_counter()
                if trainer is None:
                    tokenizer = train_seen_chars(texts["train"], size)
                else:
                    tokenizer = trainer(texts["train"], field, size, scheme)
                train_s = time.perf_counter() - start
                figures = measure(tokenizer, held_out, base_lengths, base_rows_per_s)
                row = {"field": field, "scheme": scheme, "vocab_size": size, "used": tokenizer.get_vocab_size(),
                       "default": DEFAULT_SCHEME[field] == scheme, "train_s": train_s, **figures}  # fmt: skip
                results.append(row)
                print(
                    f"{scheme + ('*' if row['default'] else ''):<12}{size:>6}{row['used']:>6}"
                    f"{row['mean_tokens']:>8.2f}{row['ratio']:>7.2f}x{row['round_trip_exact']:>8}"
                    f"{row['unknown_tokens']:>6}{train_s:>8.2f}{row['encode_speedup_vs_base']:>6.1f}x"
                )
    print("\n* = default scheme; ratio = base tokens / IR tokens; enc x = IR encode rows/s over base rows/s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main(make_parser().parse_args())
