import ast

import pytest

from dataset_builder.ir import (
    NoFunctionError,
    SourceSyntaxError,
    TooDeepError,
    serialize_ast,
    serialize_or_error,
    serialize_source,
)
from dataset_builder.ir.ast_ir import ast_node_names


def _seed_walk(node, out):
    """The seed's recursive definition, kept here as the oracle for the iterative walk."""
    out.append(type(node).__name__.upper())
    for child in ast.iter_child_nodes(node):
        _seed_walk(child, out)
    return out


def test_ast_matches_funcskeleton_golden_on_every_row(funcskeleton_golden):
    mismatches = [r["func_name"] for r in funcskeleton_golden if serialize_ast(r["src"]) != r["ast"]]
    assert len(funcskeleton_golden) == 3169
    assert mismatches == []


def test_ast_equals_recursive_seed_walk_on_this_module():
    src = open(__file__).read()
    assert ast_node_names(ast.parse(src)) == _seed_walk(ast.parse(src), [])


def test_ast_small_example():
    assert serialize_ast("def f(x):\n    return x") == "MODULE_FUNCTIONDEF_ARGUMENTS_ARG_RETURN_NAME_LOAD"


def test_ast_walk_survives_trees_deeper_than_the_recursion_limit():
    # 2,000 nested subscripts parse fine but would overflow a recursive walk at the default limit.
    src = "def f(x):\n    return x" + "[0]" * 2000
    names = serialize_ast(src).split("_")
    assert names.count("SUBSCRIPT") == 2000


@pytest.mark.parametrize(
    ("src", "error", "reason"),
    [
        ("def f(:\n  pass", SourceSyntaxError, "syntax_error"),
        ("x = 1\n", NoFunctionError, "no_function"),
        ("def f():\n    return 1\x00", SourceSyntaxError, "syntax_error"),
        ("def f():\n    return " + "(" * 1000 + "1" + ")" * 1000, TooDeepError, "too_deep"),
        ("def f():\n    return " + "+".join(["1"] * 100_000), TooDeepError, "too_deep"),
        ("def f():\n    return " + "-" * 100_000 + "1", TooDeepError, "too_deep"),
    ],
    ids=["syntax", "no-function", "nul-byte", "nested-parens", "long-binop-chain", "deep-unary"],
)
def test_bad_source_gives_typed_error_and_batch_error(src, error, reason):
    with pytest.raises(error):
        serialize_source(src)
    row = serialize_or_error(src)
    assert row["ast"] is None and row["cfg"] is None
    assert row["error"].startswith(reason + ":")


def test_non_string_source_is_a_typed_error():
    assert serialize_or_error(None)["error"].startswith("syntax_error:")
