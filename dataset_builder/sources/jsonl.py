"""Robust JSON-lines reading shared by the CodeSearchNet, MBPP and HumanEval sources.

A shard is `(paths, k, n)`: the k-th of n contiguous shares of all the files'
lines taken as one sequence. A task first counts the lines of every file
(decompressing is ~100x cheaper than serializing), then parses only its share,
so one big `.jsonl.gz` spreads over many tasks, every line is handled by
exactly one, and the shares concatenated are the input order.

Bad lines become `Skip`s; a truncated or corrupt gzip stream ends the file with
one `truncated_input` skip (reported by the task whose share holds the file's
last readable line, so it is counted once), and every line read before the
damage is kept.
"""

import gzip
import json
import zlib
from pathlib import Path

from .base import Skip, order_key, share


def jsonl_shards(paths: list, n: int) -> list:
    n = max(1, n)
    return [([str(p) for p in paths], k, n) for k in range(n)]


def _open(path):
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def count_lines(path: str) -> tuple:
    """`(readable lines, error or None)`: a damaged file counts the lines before the damage."""
    n = 0
    try:
        with _open(path) as f:
            for _ in f:
                n += 1
    except (EOFError, OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        return n, f"{type(e).__name__}: {e}"
    return n, None


def read_jsonl_shard(shard):
    """Yield `(order, "<file name>:<line>", obj)` for good lines of this shard, `Skip` for bad ones."""
    paths, k, n = shard
    counted = [count_lines(path) for path in paths]
    total = sum(count for count, _ in counted)
    mine = share(total, k, n)
    offset = 0
    for file_index, (path, (count, error)) in enumerate(zip(paths, counted, strict=True)):
        first, offset = offset, offset + count
        if first < mine.stop and offset > mine.start:
            yield from _read_lines(path, file_index, range(mine.start - first + 1, mine.stop - first + 1))
        # The damage is reported by the task holding the file's last readable line (the last task when
        # that position is past the end: an empty file last, or no lines at all).
        owner_line = first + max(count, 1) - 1
        if error is not None and (owner_line in mine if owner_line < total else k == n - 1):
            yield Skip(
                order_key(file_index, count + 1),
                "truncated_input",
                f"{Path(path).name}: unreadable after line {count}: {error}",
            )


def _read_lines(path: str, file_index: int, line_numbers: range):
    name = Path(path).name
    try:
        with _open(path) as f:
            for line_no, raw in enumerate(f, start=1):
                if line_no >= line_numbers.stop:
                    return
                if line_no < line_numbers.start or not raw.strip():
                    continue
                order = order_key(file_index, line_no)
                try:
                    obj = json.loads(raw)
                except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
                    yield Skip(order, "invalid_json", f"{name}:{line_no}: {e}")
                    continue
                if not isinstance(obj, dict):
                    yield Skip(order, "not_an_object", f"{name}:{line_no}: a JSON {type(obj).__name__}")
                    continue
                yield order, f"{name}:{line_no}", obj
    except (EOFError, OSError, zlib.error):
        return  # the damage past the counted lines: reported once by `read_jsonl_shard`


def check_input_files(paths: list, what: str) -> list:
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"{what} input not found: {', '.join(missing)}")
    return [Path(p) for p in paths]


def expand_jsonl_inputs(input_path) -> list:
    """A file, or a folder whose `*.jsonl` / `*.jsonl.gz` files are read in name order."""
    path = Path(input_path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))
        if not files:
            raise FileNotFoundError(f"no .jsonl or .jsonl.gz files in {path}")
        return files
    return check_input_files([path], "JSON lines")
