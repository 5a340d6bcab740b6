"""What every source yields, and the little helpers they share.

A source is a pure reader: it turns its input into `SourceRow`s (one function's
source plus the upstream metadata and the split it belongs to) or `Skip`s (an
input unit that could not be read: a bad JSON line, an undecodable file, a
truncated archive). It never serializes, filters or writes; `rows.py` does that,
so every source is counted and filtered the same way.

Each item carries an `order` key (file index << 32 | line or function number),
so rows can be put back in input order whatever the number of processes.
"""

from dataclasses import dataclass, field


@dataclass
class SourceRow:
    order: int
    split: str
    src: object  # normally str; anything else is counted as a bad row, not trusted
    meta: dict = field(default_factory=dict)
    func_name: str | None = None  # when the source knows it (qualname, entry point, upstream field)


@dataclass
class Skip:
    order: int
    reason: str
    detail: str


def order_key(file_index: int, position: int) -> int:
    return (file_index << 32) | position


class Source:
    """Base class; subclasses set the class attributes and implement `shards` and `read_shard`."""

    name: str  # value of --source
    config: str  # config name in the dataset repo
    splits: tuple  # split names, in card order
    license: str  # Hub licence id
    license_note: str  # one sentence for the card
    description: str  # one paragraph for the card
    homepage: str = ""
    citation: str = ""
    # Benchmarks keep every problem (evaluation needs all of them): a row whose IR fails is kept with
    # `ir_error` set. Corpora drop such rows and count them by reason.
    keep_ir_failures: bool = False

    def metadata_features(self):
        """`datasets.Features` of the upstream columns kept in every row."""
        raise NotImplementedError

    def shards(self, num_proc: int, part: tuple = (0, 1)) -> list:
        """Picklable work units; `datasets` hands contiguous runs of them to each process.

        `part=(k, m)`: only machine k's share of an input split over m machines (`--part k/m`).
        """
        raise NotImplementedError

    def read_shard(self, shard):
        """Yield `SourceRow` / `Skip` for one shard; must never raise on bad input."""
        raise NotImplementedError

    def input_description(self) -> str:
        return ""
