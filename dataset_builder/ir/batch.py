"""Row-level entry points used by the CLI and the dataset builder."""

import ast
from dataclasses import dataclass

from .ast_ir import serialize_ast_tree
from .cfg_ir import serialize_cfg_tree
from .errors import IRError, TooDeepError
from .parsing import first_function, parse_source, top_level_functions


def serialize_source(src: str) -> dict:
    """`{"ast": ..., "cfg": ...}` for one function's source; raises `IRError`."""
    tree = parse_source(src)
    first_function(tree)  # a source with no function has no CFG: fail before doing any work
    try:
        ast_ir = serialize_ast_tree(tree)
        cfg_ir = serialize_cfg_tree(tree)  # the same tree: each row is parsed once
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
    """Every function and method of a file, with its source segment (decorators excluded)."""
    tree = parse_source(file_src)
    out = []
    for node, qualname in _with_qualnames(tree):
        segment = ast.get_source_segment(file_src, node)
        if segment is not None:
            out.append(FunctionSource(qualname, node.lineno, segment))
    return out


def _with_qualnames(tree: ast.Module):
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    for fn in top_level_functions(tree):
        names = [fn.name]
        node = parents.get(fn)
        while isinstance(node, ast.ClassDef):
            names.append(node.name)
            node = parents.get(node)
        yield fn, ".".join(reversed(names))
