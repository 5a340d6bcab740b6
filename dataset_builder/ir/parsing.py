"""One guarded `ast.parse` shared by every serializer.

`ast.parse` can raise `SyntaxError`, `ValueError` (NUL bytes), `RecursionError`
or `MemoryError` (deeply nested expressions); all of them become typed
`IRError`s so that no caller ever sees a raw traceback.
"""

import ast

from .errors import NoFunctionError, SourceSyntaxError, TooDeepError, TooLargeError

# 2 MB of source is far beyond any real function (the CPython stdlib's largest
# is ~30 KB) and keeps a single bad row from stalling a batch.
MAX_SOURCE_CHARS = 2_000_000


def parse_source(src: str) -> ast.Module:
    if not isinstance(src, str):
        raise SourceSyntaxError(f"source must be str, got {type(src).__name__}")
    if len(src) > MAX_SOURCE_CHARS:
        raise TooLargeError(f"source has {len(src):,} characters (limit {MAX_SOURCE_CHARS:,})")
    try:
        return ast.parse(src)
    except SyntaxError as e:
        if any(s in str(e) for s in ("too many nested", "too complex", "too many levels of indentation")):
            raise TooDeepError(f"source nests too deeply to parse: {e.msg} (line {e.lineno})") from None
        raise SourceSyntaxError(f"source does not parse: {e.msg} (line {e.lineno})") from None
    except ValueError as e:  # e.g. "source code string cannot contain null bytes"
        raise SourceSyntaxError(f"source does not parse: {e}") from None
    except (RecursionError, MemoryError) as e:
        raise TooDeepError(f"source nests too deeply to parse ({type(e).__name__})") from None


def first_function(tree: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """The first function definition in `ast.walk` (breadth-first) order, as funcskeleton takes it."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node
    raise NoFunctionError("source defines no function")


def top_level_functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Functions and methods in source order (module level and directly inside classes, recursively)."""
    found = []
    stack = list(reversed(tree.body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(node)
        elif isinstance(node, ast.ClassDef):
            stack.extend(reversed(node.body))
    return found
