"""Batch conversion of JSON-lines rows: add `ast`, `cfg`, `error`; keep order.

A line that is not valid JSON, is not an object, or lacks the source field is
still written (as `{"line": N, "error": ...}` merged into what could be read), so
the output has exactly one row per input line and nothing is silently dropped.
"""

import json
from collections import Counter
from dataclasses import dataclass, field

from .batch import serialize_or_error

# Rows per task handed to a worker: large enough to amortize pickling, small
# enough that order-preserving `imap` keeps memory flat.
CHUNK_ROWS = 64


@dataclass
class ConvertSummary:
    rows: int = 0
    ok: int = 0
    failed: int = 0
    errors_by_reason: Counter = field(default_factory=Counter)


def convert_line(item: tuple[int, str, str]) -> tuple[str, str | None]:
    """One input line -> (output JSON text, error reason or None)."""
    line_no, line, src_field = item
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        row = {"line": line_no, "error": f"invalid_json: line {line_no}: {e.msg}"}
    else:
        if not isinstance(row, dict):
            row = {"line": line_no, "error": f"not_an_object: line {line_no}"}
        elif src_field not in row:
            row["error"] = f"missing_field: line {line_no} has no field {src_field!r}"
        else:
            row.update(serialize_or_error(row[src_field]))
    if row.get("error"):
        row.setdefault("ast", None)
        row.setdefault("cfg", None)
        row["ast"] = row["cfg"] = None
        return json.dumps(row, ensure_ascii=False), row["error"].split(":", 1)[0]
    return json.dumps(row, ensure_ascii=False), None


def _convert_chunk(chunk):
    return [convert_line(item) for item in chunk]


def _chunks(lines, src_field):
    chunk = []
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        chunk.append((i, line, src_field))
        if len(chunk) == CHUNK_ROWS:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def convert_rows(lines, out, *, src_field: str = "src", workers: int = 1) -> ConvertSummary:
    summary = ConvertSummary()
    chunks = _chunks(_read_lines(lines), src_field)
    if workers > 1:
        import multiprocessing as mp

        pool = mp.get_context("fork").Pool(workers)
        results = pool.imap(_convert_chunk, chunks)
    else:
        pool = None
        results = map(_convert_chunk, chunks)
    try:
        for converted in results:
            for text, reason in converted:
                out.write(text + "\n")
                summary.rows += 1
                if reason:
                    summary.failed += 1
                    summary.errors_by_reason[reason] += 1
                else:
                    summary.ok += 1
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        out.flush()
    return summary


def _read_lines(lines):
    """Yield lines; a truncated gzip stream ends the input with a recorded error line."""
    import gzip
    import zlib

    try:
        yield from lines
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as e:
        raise InputReadError(f"input is truncated or corrupt: {e}") from None


class InputReadError(OSError):
    pass
