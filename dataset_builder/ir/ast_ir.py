"""The `ast` IR: the seed's pre-order walk of the syntax tree.

Each node is written as `type(node).__name__.upper()`, children in
`ast.iter_child_nodes` order (so context nodes like `LOAD`/`STORE` appear), all
joined with `_`:

    >>> serialize_ast("def f(x):\\n    return x")
    'MODULE_FUNCTIONDEF_ARGUMENTS_ARG_RETURN_NAME_LOAD'

The walk uses an explicit stack rather than recursion, so any tree that
`ast.parse` accepts is serialized, however deep.
"""

import ast

from .parsing import parse_source


def ast_node_names(tree: ast.AST) -> list[str]:
    names = []
    stack = [tree]
    while stack:
        node = stack.pop()
        names.append(type(node).__name__.upper())
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return names


def serialize_ast_tree(tree: ast.AST) -> str:
    return "_".join(ast_node_names(tree))


def serialize_ast(src: str) -> str:
    """Serialize a whole source string (the seed's input is one function's source)."""
    return serialize_ast_tree(parse_source(src))
