"""The output folder, laid out as a Hub dataset repo, and safe updates to it.

    <output>/README.md                                   dataset card, YAML `configs` + `dataset_info`
    <output>/data/<config>/<split>-NNNNN-of-NNNNN.parquet
    <output>/reports/<config>.json                       what built each config (counts, command, speed)

Several configs share one folder: a build adds its configs and re-renders the
card from every `reports/*.json`. A config is written to `<output>/.staging`
first and moved into place only when complete, so a failed or interrupted build
never loses or half-replaces what the folder already held. An existing config is
replaced only with `overwrite=True`.
"""

import json
import math
import os
import shutil
from pathlib import Path

# Parquet files are cut at about this much Arrow data, like `push_to_hub`'s shards.
MAX_SHARD_BYTES = 256 * 2**20
STAGING_DIR = ".staging"


class OutputExistsError(FileExistsError):
    """The output folder already holds a config this build would replace."""


def config_data_dir(output, config) -> Path:
    return Path(output) / "data" / config


def report_path(output, config) -> Path:
    return Path(output) / "reports" / f"{config}.json"


def existing_configs(output) -> list:
    reports = Path(output) / "reports"
    return sorted(p.stem for p in reports.glob("*.json")) if reports.is_dir() else []


def check_can_write(output, configs, overwrite: bool) -> None:
    for config in configs:
        present = config_data_dir(output, config).exists() or report_path(output, config).exists()
        if present and not overwrite:
            raise OutputExistsError(
                f"{output} already has config {config!r} (data/{config}); pass --overwrite to replace it"
            )


def staging_dir(output, config) -> Path:
    path = Path(output) / STAGING_DIR / config
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def remove_staging(output, config) -> None:
    root = Path(output) / STAGING_DIR
    shutil.rmtree(root / config, ignore_errors=True)
    if root.is_dir() and not any(root.iterdir()):
        root.rmdir()


def write_split(dataset, staged_config_dir: Path, config: str, split: str) -> list:
    """Write one split as `<split>-NNNNN-of-NNNNN.parquet` files; returns their repo-relative paths."""
    n_bytes = _arrow_bytes(dataset)
    n_shards = max(1, math.ceil(n_bytes / MAX_SHARD_BYTES))
    paths = []
    for index in range(n_shards):
        name = f"{split}-{index:05d}-of-{n_shards:05d}.parquet"
        dataset.shard(n_shards, index, contiguous=True).to_parquet(str(staged_config_dir / name))
        paths.append(f"data/{config}/{name}")
    return paths


def write_split_record(dataset, staged: Path, staged_config_dir: Path, config: str, split: str) -> dict:
    """Write a split (`write_split`) and return its entry of the config report: sizes and files."""
    files = write_split(dataset, staged_config_dir, config, split)
    num_bytes, file_bytes = parquet_sizes(staged, files)
    return {"num_examples": len(dataset), "num_bytes": num_bytes, "file_bytes": file_bytes, "files": files}


def _arrow_bytes(dataset) -> int:
    if len(dataset) == 0:
        return 0
    # A selection keeps the parent's table: scale its size by the fraction of rows selected.
    table = dataset.data
    return int(table.nbytes * len(dataset) / max(1, table.num_rows))


def parquet_sizes(output, paths) -> tuple:
    """`(num_bytes uncompressed, bytes on disk)` of a split's parquet files."""
    import pyarrow.parquet as pq

    uncompressed = on_disk = 0
    for rel in paths:
        path = Path(output) / rel
        meta = pq.read_metadata(path)
        uncompressed += sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        on_disk += path.stat().st_size
    return uncompressed, on_disk


def commit_config(output, staged_config_dir: Path, config: str, report: dict, repo_id: str) -> None:
    """Move a completed config into place, save its report, re-render the card."""
    target = config_data_dir(output, config)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target)
    os.replace(staged_config_dir, target)
    _write_text_atomically(
        report_path(output, config), json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    )
    write_card(output, repo_id)


def load_reports(output) -> dict:
    return {
        config: json.loads(report_path(output, config).read_text()) for config in existing_configs(output)
    }


def write_card(output, repo_id: str) -> Path:
    from model_cards.dataset_card import dataset_card

    card = dataset_card(load_reports(output), repo_id)
    path = Path(output) / "README.md"
    _write_text_atomically(path, str(card))
    return path


def _write_text_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
