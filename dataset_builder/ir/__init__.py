"""IR serializers: Python source -> `ast` and `cfg` strings (formats in DESIGN.md)."""

from .ast_ir import serialize_ast, serialize_ast_tree
from .batch import function_sources, serialize_or_error, serialize_source
from .cfg_ir import serialize_cfg, serialize_cfg_tree
from .errors import IRError, NoFunctionError, SourceSyntaxError, TooDeepError, TooLargeError

__all__ = [
    "IRError",
    "NoFunctionError",
    "SourceSyntaxError",
    "TooDeepError",
    "TooLargeError",
    "function_sources",
    "serialize_ast",
    "serialize_ast_tree",
    "serialize_cfg",
    "serialize_cfg_tree",
    "serialize_or_error",
    "serialize_source",
]
