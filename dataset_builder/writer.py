"""The output folder, laid out as a Hub dataset repo, and safe updates to it.

    <output>/README.md                                   dataset card, YAML `configs` + `dataset_info`
    <output>/data/<config>/<split>-NNNNN-of-NNNNN.parquet
    <output>/reports/<config>.json                       what built each config (counts, command, speed)
<output>/reports/default-config.txt                  the default config, when chosen with --default-config

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
from datetime import datetime, timezone
from pathlib import Path

# Parquet files are cut at about this much Arrow data, like `push_to_hub`'s shards.
MAX_SHARD_BYTES = 256 * 2**20
STAGING_DIR = ".staging"
# An explicit `--default-config` choice, kept next to the reports (not a `*.json`, so not a config).
DEFAULT_CONFIG_FILE = "reports/default-config.txt"
# The seed's own dataset (CodeSearchNet SRC/AST/CFG): the default config whenever the folder has it.
SEED_DEFAULT_CONFIG = "codesearchnet"


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


def commit_config(
    output,
    staged_config_dir: Path,
    config: str,
    report: dict,
    repo_id: str,
    default_config: str | None = None,
) -> None:
    """Move a completed config into place, save its report, re-render the card.

    `first_built_at` survives an `--overwrite` rebuild: it is what "the first config built" (the default
    config of a folder without `codesearchnet`) is decided by. `default_config` records an explicit choice.
    """
    target = config_data_dir(output, config)
    target.parent.mkdir(parents=True, exist_ok=True)
    previous = report_path(output, config)
    # Microseconds: two configs built within one second (built_at's precision) still have an order.
    first_built = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    if previous.is_file():
        old = json.loads(previous.read_text())
        first_built = old.get("first_built_at", old.get("built_at", first_built))
    report = {**report, "first_built_at": first_built}
    if target.exists():
        shutil.rmtree(target)
    os.replace(staged_config_dir, target)
    _write_text_atomically(previous, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    if default_config:
        _write_text_atomically(Path(output) / DEFAULT_CONFIG_FILE, default_config + "\n")
    write_card(output, repo_id)


def default_config(output, reports: dict) -> str | None:
    """The config `load_dataset(repo)` loads without a name: the one chosen with `--default-config`, else the
    seed's own `codesearchnet`, else the first config built."""
    chosen = Path(output) / DEFAULT_CONFIG_FILE
    if chosen.is_file() and chosen.read_text().strip() in reports:
        return chosen.read_text().strip()
    if SEED_DEFAULT_CONFIG in reports:
        return SEED_DEFAULT_CONFIG
    built = sorted((r.get("first_built_at", r.get("built_at", "")), name) for name, r in reports.items())
    return built[0][1] if built else None


def load_reports(output) -> dict:
    return {
        config: json.loads(report_path(output, config).read_text()) for config in existing_configs(output)
    }


def write_card(output, repo_id: str) -> Path:
    from model_cards.dataset_card import dataset_card

    reports = load_reports(output)
    card = dataset_card(reports, repo_id, default_config=default_config(output, reports))
    path = Path(output) / "README.md"
    _write_text_atomically(path, str(card))
    return path


def _write_text_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
