"""Turn the finished tasks of a datatrove build into a published config (data, report, card).

The tasks' Parquet parts (`<staged>/parts/<split>/NNN_<rank>.parquet`) become
`data/<config>/<split>-NNNNN-of-NNNNN.parquet` in (rank, file) order, by hard
links into `<staged>/data/<config>` (a copy where links are not possible) and
one `os.replace` into the output folder; the report sums the stats every task
saved (`<staged>/logs/stats/<rank>.json`). Nothing is published unless every
task finished and the rows in the parts are exactly the rows the stats counted.
"""

import json
import os
import shutil
from collections import Counter
from pathlib import Path

from . import writer
from .pipeline import EXAMPLES_DIR, ITEMS, KEPT_WITHOUT_IR, ROWS, SKIPPED, part_files
from .report import EXAMPLES_PER_REASON, EmptyBuildError, source_report

LOGS_DIR = "logs"


class IncompleteBuildError(RuntimeError):
    """Some tasks have not finished (failed, killed, or still running on a cluster)."""


def merged_stats(logs_dir, tasks: int) -> Counter:
    """`{stat label: total}` summed over every step of every task's saved stats."""
    logs_dir = Path(logs_dir)
    missing = [rank for rank in range(tasks) if not (logs_dir / "stats" / f"{rank:05d}.json").is_file()]
    if missing:
        raise IncompleteBuildError(f"no stats for task(s) {_ranks(missing)} in {logs_dir / 'stats'}")
    counts = Counter()
    for rank in range(tasks):
        # datatrove's `PipelineStats.save_to_disk` format: [{"name", "time_stats", "stats": {label: n | {...}}}]
        for step in json.loads((logs_dir / "stats" / f"{rank:05d}.json").read_text()):
            for label, value in step["stats"].items():
                counts[label] += int(value["total"] if isinstance(value, dict) else value)
    return counts


def merged_examples(staged, tasks: int) -> tuple:
    """`(skipped examples, kept-without-IR examples)` by reason, first examples in rank order."""
    skipped, kept = {}, {}
    for rank in range(tasks):
        path = Path(staged) / EXAMPLES_DIR / f"{rank:05d}.json"
        found = json.loads(path.read_text()) if path.is_file() else {}
        for target, key in ((skipped, "skipped"), (kept, "kept_without_ir")):
            for reason, items in found.get(key, {}).items():
                target.setdefault(reason, []).extend(items)
    trim = lambda d: {reason: items[:EXAMPLES_PER_REASON] for reason, items in d.items()}  # noqa: E731
    return trim(skipped), trim(kept)


def publish_config(
    source,
    output,
    staged,
    *,
    tasks: int,
    filter_name: str,
    command: str,
    repo_id: str,
    execution: dict,
    seconds: float,
    default_config: str | None = None,
) -> dict:
    """Publish the config from a staging folder whose `tasks` tasks all finished; returns the report."""
    import pyarrow.parquet as pq

    output, staged = Path(output), Path(staged)
    config = source.config
    counts = merged_stats(staged / LOGS_DIR, tasks)
    config_stage = staged / "data" / config
    if config_stage.exists():
        shutil.rmtree(config_stage)  # an earlier publish attempt that did not finish
    config_stage.mkdir(parents=True)
    splits, empty_splits = {}, []
    for split in source.splits:
        parts = part_files(staged, split)
        if not parts:
            empty_splits.append(split)  # `datasets` refuses a split with no rows: leave it out
            continue
        files = []
        for index, part in enumerate(parts):
            name = f"{split}-{index:05d}-of-{len(parts):05d}.parquet"
            _link_or_copy(part, config_stage / name)
            files.append(f"data/{config}/{name}")
        num_rows = sum(pq.read_metadata(config_stage / Path(f).name).num_rows for f in files)
        if num_rows != counts[ROWS + split]:
            raise IncompleteBuildError(
                f"{config}/{split}: the tasks' part files hold {num_rows} rows but their stats count "
                f"{counts[ROWS + split]}; not publishing (remove {staged} and build again)"
            )
        num_bytes, file_bytes = writer.parquet_sizes(staged, files)
        splits[split] = {
            "num_examples": num_rows,
            "num_bytes": num_bytes,
            "file_bytes": file_bytes,
            "files": files,
        }
    dropped = {
        (label[len(SKIPPED) :] if label.startswith(SKIPPED) else label): n
        for label, n in counts.items()
        if label.startswith((SKIPPED, "filter:"))
    }
    kept = {
        label[len(KEPT_WITHOUT_IR) :]: n for label, n in counts.items() if label.startswith(KEPT_WITHOUT_IR)
    }
    skipped_examples, kept_examples = merged_examples(staged, tasks)
    try:
        report = source_report(
            source,
            filter_name=filter_name,
            splits=splits,
            empty_splits=empty_splits,
            items_read=counts[ITEMS],
            dropped=dropped,
            examples=skipped_examples,
            ir_failures_kept=kept,
            ir_failure_examples=kept_examples,
            seconds=seconds,
            command=command,
            execution=execution,
        )
    except EmptyBuildError:
        writer.remove_staging(output, config)  # nothing to resume: every task ran and found nothing
        raise
    writer.commit_config(output, config_stage, config, report, repo_id, default_config=default_config)
    writer.remove_staging(output, config)
    return report


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem, or links not allowed: the parts stay for a re-run either way
        shutil.copyfile(source, target)


def _ranks(ranks: list) -> str:
    shown = ", ".join(str(r) for r in ranks[:10])
    return shown + (f" and {len(ranks) - 10} more" if len(ranks) > 10 else "")
