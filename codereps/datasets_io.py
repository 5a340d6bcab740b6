"""`datasets.load_dataset` for dataset folders that get rebuilt.

datasets 5.2 keys its cache of a local Parquet folder on the folder's base name,
the config and the YAML `dataset_info` only: two folders both named `dataset`
(two runs of `codereps experiment`), or one folder rebuilt in place with equal
split sizes, load the rows cached first (measured here: a 164-row folder loaded
as another's 12 rows). Keying a private cache on the folder's absolute path and
its files' sizes and mtimes makes every folder load its own, current rows. Hub
repos keep the default cache, which is keyed on the commit.
"""

import hashlib
from pathlib import Path


def local_dataset_cache_dir(dataset: str | Path) -> str | None:
    """A cache folder tied to a local dataset folder's files; None for a Hub repo id."""
    from codereps.paths import cache_dir

    folder = Path(dataset)
    if not folder.is_dir():
        return None
    digest = hashlib.sha256(str(folder.resolve()).encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return str(cache_dir() / "datasets" / digest.hexdigest()[:16])


def load_dataset_config(dataset: str | Path, config: str, split: str | None = None, **kwargs):
    """`datasets.load_dataset(dataset, config, split=split)` with the file-keyed cache for local folders."""
    from datasets import load_dataset

    return load_dataset(
        str(dataset), config, split=split, cache_dir=local_dataset_cache_dir(dataset), **kwargs
    )
