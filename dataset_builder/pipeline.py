"""The IR extraction as datatrove pipeline steps: read a source, serialize, write a task's Parquet parts.

    [SourceReader(source), ExtractIR(source, filter_name, staged), SplitParquetWriter(source, staged)]

Task `rank` of `world_size` reads `source.shards(world_size)[rank]`, the
rank-th contiguous share of the input (of a folder's sorted files, of all JSON
lines, of a Hub dataset's rows): the tasks read every item exactly once, and
their outputs concatenated in rank order are the input order, whatever
`--tasks` is. `ExtractIR` is today's per-item row maker (`rows.make_row`): a row
that is filtered out or cannot be used is counted in datatrove's stats under its
reason (`skipped:<reason>`, `filter:<rule>`) and its first examples kept in
`<staged>/examples/<rank>.json`; kept rows go on as documents. The writer writes
each split's rows to `<staged>/parts/<split>/NNN_<rank>.parquet` with the
published schema; `publish.py` turns the parts and the merged stats of all
tasks into the config.
"""

import json
import os
from collections import defaultdict
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers.parquet import ParquetWriter

from .filters import FILTER_REASON_PREFIX
from .report import EXAMPLES_PER_REASON
from .rows import generator_features, make_row, row_features
from .sources.base import Skip

# Stat names (datatrove `stat_update` labels) that `publish.py` reads back from the merged stats.
ITEMS = "items"
SKIPPED = "skipped:"  # + reason; filter rules keep their `filter:` prefix instead
KEPT_WITHOUT_IR = "kept_without_ir:"  # + reason (benchmarks keep problems whose IR fails)
ROWS = "rows:"  # + split
PARTS_DIR = "parts"
EXAMPLES_DIR = "examples"
# datatrove's ParquetWriter rotates a file at this size on disk, like `writer.MAX_SHARD_BYTES` of Arrow data.
PART_FILE_BYTES = 256 * 2**20


class SourceReader(PipelineStep):
    """Reads this task's share of a codereps source (folder of .py files, JSON lines, Hub Parquet)."""

    type = "📖 - READER"
    name = "codereps source"

    def __init__(self, source):
        super().__init__()
        self.source = source

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        for item in self.source.read_shard(self.source.shards(world_size)[rank]):
            self.stat_update(ITEMS)
            text = item.src if not isinstance(item, Skip) and isinstance(item.src, str) else ""
            yield Document(text=text, id=str(item.order), metadata={"item": item})


class ExtractIR(PipelineStep):
    """Source item -> published row (`src`, `ast`, `cfg`, derived columns); drops and counts the rest."""

    type = "🔻 - FILTER"
    name = "codereps IR"

    def __init__(self, source, filter_name: str, staged):
        super().__init__()
        self.source = source
        self.filter_name = filter_name
        self.staged = str(staged)

    def run(self, data, rank: int = 0, world_size: int = 1):
        columns = dict.fromkeys(generator_features(self.source))
        meta_features = dict(self.source.metadata_features())
        published = list(row_features(self.source))
        splits = set(self.source.splits)
        examples = defaultdict(list)
        kept_examples = defaultdict(list)
        for doc in data:
            with self.track_time():
                row = make_row(doc.metadata["item"], self.source, self.filter_name, columns, meta_features)
            reason = row["_skip"]
            if reason is not None:
                label = reason if reason.startswith(FILTER_REASON_PREFIX) else SKIPPED + reason
                self.stat_update(label)
                if len(examples[reason]) < EXAMPLES_PER_REASON:
                    examples[reason].append(row["_detail"])
                continue
            split = row["_split"]
            if split not in splits:
                raise AssertionError(f"source produced rows for undeclared split {split!r}")
            if row.get("ir_error") is not None:
                error_reason = row["ir_error"].split(":", 1)[0]
                self.stat_update(KEPT_WITHOUT_IR + error_reason)
                if len(kept_examples[error_reason]) < EXAMPLES_PER_REASON:
                    kept_examples[error_reason].append(row["ir_error"])
            self.stat_update(ROWS + split)
            yield Document(
                text=row["src"],
                id=doc.id,
                metadata={"split": split, "row": {name: row[name] for name in published}},
            )
        _write_json(
            Path(self.staged) / EXAMPLES_DIR / f"{rank:05d}.json",
            {"skipped": dict(examples), "kept_without_ir": dict(kept_examples)},
        )


def _row_of(self, document: Document) -> dict:
    return document.metadata["row"]


class SplitParquetWriter(ParquetWriter):
    """datatrove's ParquetWriter with the config's schema, one file series per split and task.

    A task that died part-way left files of its own rank behind: they are removed before it writes
    again, so a re-run never mixes two attempts' rows.
    """

    name = "codereps parts"

    def __init__(self, source, staged):
        super().__init__(
            output_folder=str(Path(staged) / PARTS_DIR),
            output_filename="${split}/${rank}.parquet",
            adapter=_row_of,
            schema=row_features(source).arrow_schema,
            max_file_size=PART_FILE_BYTES,
        )
        self.staged = str(staged)

    def run(self, data, rank: int = 0, world_size: int = 1):
        remove_task_outputs(self.staged, rank)
        yield from super().run(data, rank, world_size)


def remove_task_outputs(staged, rank: int) -> None:
    staged = Path(staged)
    for path in (staged / PARTS_DIR).glob(f"*/*_{rank:05d}.parquet"):
        path.unlink()
    (staged / EXAMPLES_DIR / f"{rank:05d}.json").unlink(missing_ok=True)


def part_files(staged, split: str) -> list:
    """A split's part files in (rank, file number) order: the row order of the published split."""

    def key(path):
        number, rank = path.stem.split("_")
        return int(rank), int(number)

    return sorted((Path(staged) / PARTS_DIR / split).glob("*_*.parquet"), key=key)


def extraction_pipeline(source, filter_name: str, staged) -> list:
    return [SourceReader(source), ExtractIR(source, filter_name, staged), SplitParquetWriter(source, staged)]


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
