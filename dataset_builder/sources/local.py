"""Every function and method in a folder of `.py` files (any project a user points at).

Files are decoded the way Python does (PEP 263 coding line, else UTF-8); a file
that cannot be decoded, holds NUL bytes or does not parse is skipped as a whole
and counted by reason. Each function keeps its file `path` (relative to the
folder), `qualname` and `lineno`. The split is a hash of the path, so it is the
same on every machine and every run, and all functions of a file share a split
(no near-duplicate methods leak between train and test).
"""

import ast
import hashlib
import io
import os
import tokenize
import warnings
from pathlib import Path

from dataset_builder.ir import IRError
from dataset_builder.ir.batch import FunctionSource, source_segment, split_source_lines
from dataset_builder.ir.parsing import parse_source

from .base import Skip, Source, SourceRow, order_key, share

# Percent of files per split (by path hash): the usual 80/10/10.
SPLIT_PERCENTS = (("train", 80), ("validation", 10), ("test", 10))
# Not the project: VCS data, caches, and installed third-party packages.
SKIPPED_DIRS = {"__pycache__", ".git", ".hg", ".svn", ".tox", ".venv", "node_modules", "site-packages"}


def split_of_path(relpath: str) -> str:
    bucket = (
        int.from_bytes(hashlib.sha256(relpath.encode("utf-8", "surrogateescape")).digest()[:8], "big") % 100
    )
    for split, percent in SPLIT_PERCENTS:
        if bucket < percent:
            return split
        bucket -= percent
    raise AssertionError("split percents must add up to 100")


def python_files(root: Path) -> list:
    """Relative paths of the `.py` files under `root`, sorted, symlinked folders not followed."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        found.extend(os.path.relpath(os.path.join(folder, f), root) for f in files if f.endswith(".py"))
    return sorted(found)


def decode_python(data: bytes) -> str:
    """Decode like the interpreter: a PEP 263 coding line or BOM, else UTF-8; raises UnicodeDecodeError/SyntaxError."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def every_function_source(file_src: str) -> list:
    """Every function of a file, nested ones included, in source order, with Python-style qualnames.

    `dataset_builder.ir.function_sources` stops at functions and methods; funcskeleton's reference rows
    also hold functions nested in functions (`py_make_scanner.<locals>._scan_once`), and a folder's
    "every function" should too. The walk is iterative, so deeply nested files do not recurse.
    """
    tree = parse_source(file_src)
    lines = split_source_lines(file_src)
    found = []
    stack = [(child, "") for child in reversed(tree.body)]
    while stack:
        node, prefix = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            qualname = prefix + node.name
            segment = source_segment(lines, node)
            if segment is not None:
                found.append(FunctionSource(qualname, node.lineno, segment))
            inner = qualname + ".<locals>."
        elif isinstance(node, ast.ClassDef):
            inner = prefix + node.name + "."
        else:
            inner = prefix
        stack.extend((child, inner) for child in reversed(list(ast.iter_child_nodes(node))))
    return found


def python_file_rows(file_index: int, relpath: str, text: str, meta: dict, split_key: str | None = None):
    """Every function of one decoded `.py` file as `SourceRow`s (meta + `qualname`, `lineno`), or one `Skip`.

    The split is a hash of `split_key` (default: the path), shared by all functions of the file.
    """
    try:
        with warnings.catch_warnings():  # warnings about the parsed project's code are not ours to print
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            functions = every_function_source(text)
    except IRError as e:
        yield Skip(order_key(file_index, 0), e.reason, f"{relpath}: {e}")
        return
    split = split_of_path(split_key or relpath)
    for k, fn in enumerate(functions, start=1):
        row_meta = {**meta, "qualname": fn.qualname, "lineno": fn.lineno}
        yield SourceRow(
            order_key(file_index, k), split, fn.src, row_meta, func_name=fn.qualname.rsplit(".", 1)[-1]
        )


class LocalFolderSource(Source):
    name = "local"
    config = "local"
    splits = ("train", "validation", "test")
    license = "other"
    license_note = "Functions from a local folder keep the licence of the project they were taken from."
    description = (
        "Every function and method of a local folder of `.py` files, with file path and qualified name."
    )

    def __init__(self, input_path):
        self.root = Path(input_path).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"local source needs a folder of .py files, got {input_path}")
        self.files = python_files(self.root)
        if not self.files:
            raise FileNotFoundError(f"no .py files under {self.root}")

    def metadata_features(self):
        from datasets import Features, Value

        return Features({"path": Value("string"), "qualname": Value("string"), "lineno": Value("int32")})

    def shards(self, n):
        n = max(1, n)
        return [(k, n) for k in range(n)]

    def read_shard(self, shard):
        """The files of share k of n (contiguous in the sorted file list), each read whole."""
        k, n = shard
        for file_index in share(len(self.files), k, n):
            yield from self._read_file(file_index, self.files[file_index])

    def _read_file(self, file_index: int, relpath: str):
        order = order_key(file_index, 0)
        try:
            data = (self.root / relpath).read_bytes()
        except OSError as e:
            yield Skip(order, "unreadable", f"{relpath}: {e.strerror or e}")
            return
        nul_offset = data.find(b"\x00")
        if nul_offset >= 0:
            yield Skip(order, "nul_bytes", f"{relpath}: file contains a NUL byte at offset {nul_offset}")
            return
        try:
            text = decode_python(data)
        except (UnicodeDecodeError, SyntaxError, LookupError) as e:
            yield Skip(order, "decode_error", f"{relpath}: not decodable as declared (default UTF-8): {e}")
            return
        yield from python_file_rows(file_index, relpath, text, {"path": relpath})

    def input_description(self):
        return f"{self.root} ({len(self.files)} .py files)"
