"""Tiny dataset folders in the codereps layout, for the tokenizer tests.

`write_dataset_folder` writes `data/<config>/<split>-00000-of-00001.parquet`
plus a README whose YAML `configs` lists them, which is all
`datasets.load_dataset(folder, config)` needs (the dataset builder's contract).
`golden_dataset_rows` splits funcskeleton's stdlib golden rows (real `src`,
`ast`, `cfg`) deterministically by file path, like the `local` config.
"""

import hashlib
from pathlib import Path

import yaml

SPLITS = ("train", "validation", "test")


def write_dataset_folder(root: Path, configs: dict[str, dict[str, list[dict]]]) -> Path:
    """configs: {config: {split: [row, ...]}}; an empty row list writes an empty split with `columns`."""
    import datasets

    root = Path(root)
    card_configs = []
    for config, splits in configs.items():
        data_files = []
        columns = sorted({key for rows in splits.values() for row in rows for key in row}) or [
            "src",
            "ast",
            "cfg",
        ]
        for split, rows in splits.items():
            path = root / "data" / config / f"{split}-00000-of-00001.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            features = datasets.Features({c: datasets.Value("string") for c in columns})
            table = {c: [row.get(c) for row in rows] for c in columns}
            datasets.Dataset.from_dict(table, features=features).to_parquet(str(path))
            data_files.append({"split": split, "path": f"data/{config}/{split}-*.parquet"})
        card_configs.append({"config_name": config, "data_files": data_files})
    (root / "README.md").write_text("---\n" + yaml.safe_dump({"configs": card_configs}) + "---\n")
    return root


def path_split(path: str) -> str:
    """80/10/10 by a hash of the file path, so one file's functions share a split."""
    bucket = int(hashlib.sha256(path.encode()).hexdigest(), 16) % 10
    return "train" if bucket < 8 else ("validation" if bucket == 8 else "test")


def golden_dataset_rows(golden: list[dict], limit: int | None = None) -> dict[str, list[dict]]:
    rows = golden[:limit] if limit else golden
    splits = {split: [] for split in SPLITS}
    for row in rows:
        splits[path_split(row["path"])].append({key: row[key] for key in ("src", "ast", "cfg", "func_name")})
    return splits


def train_base_tokenizer(folder: Path, texts: list[str], vocab_size: int = 600) -> Path:
    """A small GPT-2-style byte-level BPE over Python source, standing in for the base LM tokenizer.

    The real base (SmolLM2's 49k vocabulary) is exercised by the slow tests; this one keeps unit tests fast.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|endoftext|>", bos_token="<|endoftext|>"
    )
    fast.save_pretrained(folder)
    return Path(folder)
