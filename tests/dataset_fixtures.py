"""Helpers and fixtures shared by the `tests/test_dataset_*.py` files: build real folders with the real CLI."""

import pyarrow.parquet as pq

from codereps.cli import main as codereps_main


def build(*argv) -> int:
    """Run `codereps dataset ...` in this process (datatrove workers: forkserver processes started from it)."""
    return codereps_main(["dataset", *map(str, argv)])


def read_config(folder, config) -> dict:
    """`{split: pyarrow.Table}` straight from the Parquet files named in the config's report."""
    import json

    report = json.loads((folder / "reports" / f"{config}.json").read_text())
    return {
        split: pq.read_table([folder / f for f in info["files"]]) for split, info in report["splits"].items()
    }


def load_report(folder, config) -> dict:
    import json

    return json.loads((folder / "reports" / f"{config}.json").read_text())


def build_mbpp_folder(root, shared_data):
    folder = root / "ds"
    if (
        build("build", "--source", "mbpp", "--input", shared_data / "mbpp" / "mbpp.jsonl", "--output", folder)
        != 0
    ):
        raise RuntimeError("mbpp build failed")
    return folder


def build_codesearchnet_pairs_folder(root, shared_data, num_proc=2, seed=0):
    folder = root / "ds"
    rc = build(
        "build", "--source", "codesearchnet",
        "--input", shared_data / "codesearchnet" / "python_sample.jsonl.gz",
        "--output", folder, "--workers", num_proc, "--seed", seed,
        "--configs", "codesearchnet", "pairs-src-ast", "pairs-src-cfg", "pairs-ast-cfg",
    )  # fmt: skip
    if rc != 0:
        raise RuntimeError("codesearchnet build failed")
    return folder


def load_config(folder, config, **kwargs):
    """`datasets.load_dataset(folder, config)` with a cache private to this folder.

    `datasets` 5.2 keys its cache of a local folder by the folder's *name*, the config and the YAML
    `dataset_info`, not by the files' paths or contents: two folders both called `ds` whose splits have the
    same sizes share one cache entry, and the second load returns the first folder's rows (seen here). A
    private `cache_dir` makes every load read the Parquet files that were actually written.
    """
    import datasets

    return datasets.load_dataset(
        str(folder), config, cache_dir=str(folder.parent / f".hf-cache-{folder.name}"), **kwargs
    )
