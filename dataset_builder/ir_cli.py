"""`codereps ir`: print or batch-convert Python source to the `ast` and `cfg` IRs.

codereps ir FILE.py                                  # every function: name, ast, cfg
codereps ir rows.jsonl[.gz] -o out.jsonl [--src-field code] [--workers 2]
cat rows.jsonl | codereps ir - -o -
"""

import argparse
import gzip
import io
import os
import sys


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "ir",
        help="serialize Python functions to the ast and cfg IRs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", help="a .py file, a .jsonl/.jsonl.gz file of rows, or - for JSON lines on stdin")
    p.add_argument("-o", "--output", help="output JSON lines file (- for stdout); required for row input")
    p.add_argument("--src-field", default="src", help="row field that holds the source (default: src)")
    p.add_argument("--workers", type=int, default=1, help="worker processes for row input (order is kept)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.input.endswith(".py"):
        return _print_file(args.input)
    if not args.output:
        print("codereps ir: row input needs -o OUTPUT (use - for stdout)", file=sys.stderr)
        return 2
    return _convert_rows(args.input, args.output, args.src_field, args.workers)


def _print_file(path: str) -> int:
    from dataset_builder.ir import IRError, function_sources, serialize_or_error

    try:
        with open(path, encoding="utf-8") as f:
            file_src = f.read()
        functions = function_sources(file_src)
    except (OSError, UnicodeDecodeError, IRError) as e:
        print(f"codereps ir: {path}: {e}", file=sys.stderr)
        return 1
    if not functions:
        print(f"codereps ir: {path}: no function found", file=sys.stderr)
        return 1
    failed = 0
    for fn in functions:
        row = serialize_or_error(fn.src)
        print(f"# {fn.qualname} (line {fn.lineno})")
        if row["error"]:
            failed += 1
            print(f"error: {row['error']}")
        else:
            print(f"ast: {row['ast']}")
            print(f"cfg: {row['cfg']}")
        print()
    return 1 if failed == len(functions) else 0


def _convert_rows(src_path: str, out_path: str, src_field: str, workers: int) -> int:
    from dataset_builder.ir.jsonl import InputReadError, convert_rows

    try:
        summary = convert_rows(_open_in(src_path), _open_out(out_path), src_field=src_field, workers=workers)
    except (OSError, UnicodeDecodeError) as e:
        # Rows converted before the fault are already written and flushed; say where input broke off.
        kind = "input broke off" if isinstance(e, InputReadError) else "cannot read input"
        print(f"codereps ir: {src_path}: {kind}: {e}", file=sys.stderr)
        return 1
    where = "stdout" if out_path == "-" else out_path
    print(
        f"codereps ir: {summary.rows} rows -> {where} ({summary.ok} ok, {summary.failed} with error"
        + (f": {dict(summary.errors_by_reason)}" if summary.failed else "")
        + ")",
        file=sys.stderr,
    )
    return 0


def _open_in(path: str):
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _open_out(path: str):
    if path == "-":
        return sys.stdout
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if path.endswith(".gz"):
        return gzip.open(path, "wt", encoding="utf-8")
    return open(path, "w", encoding="utf-8")
