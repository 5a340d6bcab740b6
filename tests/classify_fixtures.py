"""Tiny pair datasets and tokenizers for the classifier tests, built from real standard-library functions.

Until the dataset builder's pair configs land, the tests write the same layout
themselves: `data/pairs-<pair>/<split>-00000-of-00001.parquet` plus a README with
YAML `configs`, loadable with `datasets.load_dataset(folder, "pairs-<pair>")`.
"""

import random
from pathlib import Path

PAIRS = {"src-ast": ("src", "ast"), "src-cfg": ("src", "cfg"), "ast-cfg": ("ast", "cfg")}


def make_pairs(functions, member_a, member_b, seed=0):
    """The seed's construction: half the rows get another function's `b` (label 1), the rest keep theirs."""
    rng = random.Random(seed)
    rows = [
        {
            "a": f[member_a],
            "b": f[member_b],
            "label": 0,
            "b_correct": f[member_b],
            "func_name": f["func_name"],
        }
        for f in functions
    ]
    order = list(range(len(rows)))
    rng.shuffle(order)
    n_swapped = len(rows) // 2
    for i, j in zip(order[:n_swapped:2], order[1:n_swapped:2], strict=False):
        if rows[i]["b"] == rows[j]["b"]:
            continue  # identical partners are not a swap
        rows[i]["b"], rows[j]["b"] = rows[j]["b"], rows[i]["b"]
        rows[i]["label"] = rows[j]["label"] = 1
    return rows


def write_pair_dataset(folder, functions_by_split, pairs=tuple(PAIRS), seed=0):
    """Write `pairs-<pair>` configs for each split in `functions_by_split` ({split: [function rows]})."""
    import datasets

    folder = Path(folder)
    card = ["---", "configs:"]
    for pair in pairs:
        config = f"pairs-{pair}"
        card += [f"- config_name: {config}", "  data_files:"]
        for split, functions in functions_by_split.items():
            rows = make_pairs(functions, *PAIRS[pair], seed=seed)
            path = folder / "data" / config / f"{split}-00000-of-00001.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            features = datasets.Features(
                {
                    "a": datasets.Value("string"),
                    "b": datasets.Value("string"),
                    "label": datasets.Value("int64"),
                    "b_correct": datasets.Value("string"),
                    "func_name": datasets.Value("string"),
                }
            )
            a, b = PAIRS[pair]
            named = {"a": a, "b": b, "b_correct": f"{b}_correct"}  # the dataset builder's column names
            columns = {name: [r[name] for r in rows] for name in features}  # from_list rejects an empty split
            table = datasets.Dataset.from_dict(columns, features=features)
            table.rename_columns(named).to_parquet(str(path))
            card += [f"  - split: {split}", f"    path: data/{config}/{split}-*"]
    card += ["---", "", "Tiny pair dataset written by tests/classify_fixtures.py."]
    (folder / "README.md").write_text("\n".join(card) + "\n")
    return folder


def train_tiny_tokenizer(texts, folder, vocab_size=300):
    """A byte-level BPE tokenizer folder (`PreTrainedTokenizerFast`) trained on `texts`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["[PAD]", "[UNK]"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="[PAD]", unk_token="[UNK]")
    fast.save_pretrained(str(folder))
    return folder
