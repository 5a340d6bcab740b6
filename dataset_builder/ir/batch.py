"""Row-level entry points used by the CLI and the dataset builder."""

import ast
import re
from dataclasses import dataclass

from .cfg_ir import serialize_ast_and_cfg
from .errors import IRError, TooDeepError
from .parsing import first_function, parse_source


def serialize_source(src: str) -> dict:
    """`{"ast": ..., "cfg": ...}` for one function's source; raises `IRError`."""
    tree = parse_source(src)
    first_function(tree)  # a source with no function has no CFG: fail before doing any work
    try:
        # One parse and one walk of the tree for both IRs (cfg_walk.TreeIndex).
        ast_ir, cfg_ir = serialize_ast_and_cfg(tree)
    except RecursionError:
        raise TooDeepError("source nests too deeply to serialize") from None
    return {"ast": ast_ir, "cfg": cfg_ir}


def serialize_or_error(src) -> dict:
    """Batch form: never raises; a failing row gets `ast`/`cfg` None and `error` "<reason>: <message>"."""
    try:
        return {**serialize_source(src), "error": None}
    except IRError as e:
        return {"ast": None, "cfg": None, "error": f"{e.reason}: {e}"}


@dataclass
class FunctionSource:
    qualname: str
    lineno: int
    src: str


def function_sources(file_src: str) -> list[FunctionSource]:
    """Every function and method of a file, with its source segment (decorators excluded).

    The segment is exactly `ast.get_source_segment(file_src, node)`, computed from
    one split of the file: the stdlib helper re-splits the whole file character by
    character for every function, which made this quadratic (minutes on the stdlib).
    """
    tree = parse_source(file_src)
    lines = split_source_lines(file_src)
    out = []
    for node, qualname in _with_qualnames(tree):
        out.append(FunctionSource(qualname, node.lineno, source_segment(lines, node)))
    return out


# A line with its ending, split only at \r\n, \r and \n like the parser (and
# `ast.get_source_segment`) count lines: str.splitlines also splits at \f, \x1c, ...
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_source_lines(file_src: str) -> list[str]:
    """The file's lines as `ast` counts them, split once for every `source_segment` call."""
    return _LINE.findall(file_src)


def source_segment(lines: list[str], node: ast.AST) -> str:
    """`ast.get_source_segment(file_src, node)` from `split_source_lines(file_src)`.

    The stdlib function re-splits the whole file for every node, which is quadratic
    in a module's size. Offsets are UTF-8 byte offsets within their lines, as in `ast`.
    """
    first, last = node.lineno - 1, node.end_lineno - 1
    if first == last:
        return lines[first].encode()[node.col_offset : node.end_col_offset].decode()
    head = lines[first].encode()[node.col_offset :].decode()
    tail = lines[last].encode()[: node.end_col_offset].decode()
    return "".join([head, *lines[first + 1 : last], tail])


def _with_qualnames(tree: ast.Module):
    """`top_level_functions` order (module and class bodies, depth first), with dotted class prefixes."""
    stack = [(node, ()) for node in reversed(tree.body)]
    while stack:
        node, prefix = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node, ".".join((*prefix, node.name))
        elif isinstance(node, ast.ClassDef):
            stack.extend((child, (*prefix, node.name)) for child in reversed(node.body))
