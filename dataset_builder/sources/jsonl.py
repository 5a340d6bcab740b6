"""Robust JSON-lines reading shared by the CodeSearchNet, MBPP and HumanEval sources.

A shard is `(path, file_index, residue, modulus)`: the shard reads the whole
file but parses only lines with `(line - 1) % modulus == residue`, so a single
big `.jsonl.gz` spreads over N processes (decompressing is ~100x cheaper than
serializing) and every line is handled by exactly one shard. Machine K of M
(`--part K/M`) takes residues K, K + M, K + 2M, ... of modulus M * N.

Bad lines become `Skip`s; a truncated or corrupt gzip stream ends the file with
one `truncated_input` skip (reported by the shard of residue 0 only, so it is counted once),
and every line read before the damage is kept.
"""

import gzip
import json
import zlib
from pathlib import Path

from .base import Skip, order_key


def jsonl_shards(paths: list, num_proc: int, part: tuple = (0, 1)) -> list:
    machine, machines = part
    n_shards = max(1, num_proc)
    modulus = machines * n_shards
    return [
        (str(p), i, machine + machines * k, modulus) for i, p in enumerate(paths) for k in range(n_shards)
    ]


def read_jsonl_shard(shard):
    """Yield `(order, line_no, obj)` for good lines of this shard, `Skip` for bad ones."""
    path, file_index, residue, modulus = shard
    opener = gzip.open if path.endswith(".gz") else open
    name = Path(path).name
    line_no = 0
    try:
        with opener(path, "rb") as f:
            for line_no, raw in enumerate(f, start=1):
                if (line_no - 1) % modulus != residue or not raw.strip():
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
                yield order, line_no, obj
    except (EOFError, OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        if residue == 0:  # every shard meets the damage; one reports it
            yield Skip(
                order_key(file_index, line_no + 1),
                "truncated_input",
                f"{name}: unreadable after line {line_no}: {type(e).__name__}: {e}",
            )


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
