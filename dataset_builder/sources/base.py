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


def share(total: int, k: int, n: int) -> range:
    """Positions `[a, b)` of share k of n of `total` items: contiguous, in input order, sizes within one."""
    return range(total * k // n, total * (k + 1) // n)


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

    def shards(self, n: int) -> list:
        """`n` picklable work units: shard k is the k-th contiguous share of the input, in input order.

        Together they read every item exactly once, and their rows concatenated in shard order are the
        input order; so a datatrove build writes the same split, row for row, whatever its `--tasks`
        (task k of n reads `shards(n)[k]`).
        """
        raise NotImplementedError

    def read_shard(self, shard):
        """Yield `SourceRow` / `Skip` for one shard; must never raise on bad input."""
        raise NotImplementedError

    def input_description(self) -> str:
        return ""
