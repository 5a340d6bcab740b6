"""The `cfg` IR on hand-written functions, each with the graph it must give.

The first cases are funcskeleton's own behaviour (its README example and the
scalpel quirks that decide block numbers); the rest are codereps' documented
extension for what funcskeleton rejects (docs/cfg_format.md). Every expected
string was worked out from the rules and also checked against funcskeleton's
pipeline run on python-scalpel 1.0b0.
"""

import ast
import textwrap

import pytest

from dataset_builder.ir import (
    NoFunctionError,
    SourceSyntaxError,
    TooDeepError,
    serialize_cfg,
    serialize_or_error,
)
from dataset_builder.ir.cfg_ir import serialize_cfg_tree

CASES = [
    # funcskeleton's README example, verbatim
    pytest.param(
        """\
        def function1(param):
            print(param)
            for i in range(100):
                function2(i)
                function2(i+1)
            if param:
                if function2(param) : return 1
            else: return 2
        """,
        "[1][SEP1][None][For][None][If][If][Return][Return][SEP2][1][2,3][1][4,5][6][][][SEP3][1][1][2][0][1][0][0]",
        id="readme",
    ),
    # the nested def is one statement of the entry block: inner's helper() and the outer inner(a) both count there
    pytest.param(
        """\
        def outer(a, b):
            def inner(c):
                return helper(c)
            x = inner(a)
            return x + b
        """,
        "[2][SEP1][Return][SEP2][][SEP3][2]",
        id="nested_def",
    ),
    # class body calls (compute) count in the block holding the class statement
    pytest.param(
        """\
        def make(n):
            class Box:
                size = compute(n)
            if n:
                return Box()
            return None
        """,
        "[1][SEP1][If][Return][Return][SEP2][1,2][][][SEP3][1][1][0]",
        id="nested_class",
    ),
    # P counts only a: *args, key, **kwargs are not positional parameters
    pytest.param(
        """\
        def f(a, *args, key=None, **kwargs):
            return g(a, *args, **kwargs)
        """,
        "[1][SEP1][Return][SEP2][][SEP3][1]",
        id="star_args",
    ),
    # P = len(args.args): positional-only a, b and keyword-only d are not counted
    pytest.param(
        """\
        def f(a, b, /, c, *, d):
            return a
        """,
        "[1][SEP1][Return][SEP2][][SEP3][0]",
        id="posonly_kwonly",
    ),
    # match (scalpel's fallback, as in the reference data): cases run one after another in one flow;
    # `return stop()` ends the block (what follows is unreachable); the subject and guard count nowhere
    pytest.param(
        """\
        def f(cmd):
            match cmd:
                case "go":
                    move()
                case [x, y] if check(x):
                    jump(x, y)
                case _:
                    return stop()
            return done()
        """,
        "[1][SEP1][Return][SEP2][][SEP3][3]",
        id="match",
    ),
    # async with / async for are built like with / for and written None; await ends a block
    pytest.param(
        """\
        async def fetch(session, url):
            async with session.get(url) as resp:
                data = await resp.read()
            async for chunk in stream(data):
                handle(chunk)
            return data
        """,
        "[2][SEP1][None][None][None][None][Return][SEP2][1][2][3,4][2][][SEP3][1][1][1][1][0]",
        id="async_def",
    ),
    # try/except* (scalpel's fallback): body and handler run one after another in one block
    pytest.param(
        """\
        def f(x):
            try:
                run(x)
            except* ValueError:
                fix()
            return x
        """,
        "[1][SEP1][Return][SEP2][][SEP3][2]",
        id="try_star",
    ),
    # the while's else body is not in the graph: finish() counts in the loop guard
    pytest.param(
        """\
        def f(x):
            while x:
                x = step(x)
            else:
                finish()
            return x
        """,
        "[1][SEP1][While][None][Return][SEP2][1,2][0][][SEP3][1][1][0]",
        id="while_else",
    ),
    # break exits to after-the-loop; missing() (for-else) counts in the guard
    pytest.param(
        """\
        def f(items):
            for i in items:
                if test(i):
                    break
            else:
                missing()
            return i
        """,
        "[1][SEP1][For][If][Return][SEP2][1,2][2,0][][SEP3][1][1][0]",
        id="for_else_break",
    ),
    # lambda and comprehension calls count in their statement's block
    pytest.param(
        """\
        def f(xs):
            key = lambda v: score(v)
            ys = [g(x) for x in xs if ok(x)]
            return sorted(ys, key=key)
        """,
        "[1][SEP1][Return][SEP2][][SEP3][4]",
        id="lambda_comprehension",
    ),
    # global is a plain statement
    pytest.param(
        """\
        def f():
            global counter
            counter = bump(counter)
            return counter
        """,
        "[0][SEP1][Return][SEP2][][SEP3][1]",
        id="global_nonlocal",
    ),
    # decorators are not part of the function's graph
    pytest.param(
        """\
        @cache
        @trace(level=2)
        def f(x):
            return g(x)
        """,
        "[1][SEP1][Return][SEP2][][SEP3][1]",
        id="decorated",
    ),
    # a yield outside call arguments ends the block
    pytest.param(
        """\
        def gen(xs):
            for x in xs:
                y = yield f(x)
                log(y)
        """,
        "[1][SEP1][For][None][None][SEP2][1][2][0][SEP3][1][1][1]",
        id="yield",
    ),
    # finally is not in the graph (cleanup() counts in the Try block); else follows the body
    pytest.param(
        """\
        def f(path):
            try:
                h = open(path)
            except OSError as e:
                report(e)
                return None
            else:
                use(h)
            finally:
                cleanup()
            return h
        """,
        "[1][SEP1][Try][None][Return][None][Return][SEP2][1,2][3][][4][][SEP3][2][1][1][1][0]",
        id="try_finally",
    ),
    # while True has no exit past the loop; a loop guard that exits to itself keeps no call
    pytest.param(
        """\
        def f(q):
            while True:
                item = q.get()
                if item is None:
                    break
                if skip(item):
                    continue
                work(item)
            while poll():
                continue
        """,
        "[1][SEP1][While][If][If][While][None][SEP2][1][2,3][4,0][3][0][SEP3][2][1][1][0][1]",
        id="while_true_continue",
    ),
    # assert splits the block (empty failing branch removed); with body is its own block
    pytest.param(
        """\
        def f(lock, x):
            assert check(x), msg(x)
            with lock:
                do(x)
            return x
        """,
        "[2][SEP1][None][None][None][Return][SEP2][1][2][3][][SEP3][2][0][1][0]",
        id="assert_with",
    ),
    # a function named cfg: nested def statements count no calls (funcskeleton reads it as the module)
    pytest.param(
        """\
        def cfg(x):
            def helper():
                return inner_call()
            return outer_call(helper)
        """,
        "[1][SEP1][Return][SEP2][][SEP3][1]",
        id="cfg_named",
    ),
]


@pytest.mark.parametrize(("src", "expected"), CASES)
def test_cfg_of_fixture(src, expected):
    assert serialize_cfg(textwrap.dedent(src)) == expected


def test_source_without_function_is_a_typed_error():
    with pytest.raises(NoFunctionError):
        serialize_cfg("x = 1\n")


def test_source_that_does_not_parse_is_a_typed_error():
    with pytest.raises(SourceSyntaxError):
        serialize_cfg("def f(:\n    pass\n")


def test_deepest_indentation_python_accepts_is_serialized():
    # CPython stops at 100 indentation levels; 98 nested ifs is the deepest function body.
    depth = 98
    src = (
        "def f(x):\n"
        + "".join("    " * (i + 1) + "if x:\n" for i in range(depth))
        + "    " * (depth + 1)
        + "g()\n"
    )
    blocks = "[If]" * depth + "[None]"
    exits = "".join(f"[{i + 1}]" for i in range(depth)) + "[]"
    assert serialize_cfg(src) == f"[1][SEP1]{blocks}[SEP2]{exits}[SEP3]" + "[0]" * depth + "[1]"


def test_statement_tree_deeper_than_the_recursion_limit_is_serialized():
    # Only a hand-built tree nests this deep (the parser caps indentation at 100
    # levels); a recursive builder, three frames a level, would pass Python's limit.
    depth = 600
    body = [ast.Expr(ast.Call(ast.Name("g", ast.Load()), [], []))]
    for _ in range(depth):
        body = [ast.If(ast.Name("x", ast.Load()), body, [])]
    args = ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])
    tree = ast.Module([ast.FunctionDef("f", args, body, [], lineno=1)], [])
    blocks = "[If]" * depth + "[None]"
    exits = "".join(f"[{i + 1}]" for i in range(depth)) + "[]"
    assert serialize_cfg_tree(tree) == f"[0][SEP1]{blocks}[SEP2]{exits}[SEP3]" + "[0]" * depth + "[1]"


def test_long_elif_chain_is_serialized():
    # Each `elif` is an `If` nested in the previous one's `orelse`: 1,000 levels deep.
    n = 1000
    src = "def f(x):\n    if x == 0:\n        return g(0)\n"
    src += "".join(f"    elif x == {i}:\n        return g({i})\n" for i in range(1, n)) + "    return None\n"
    # Block 2k is the k-th test (k = 0..n-1), exiting to its `return g(k)` (block 2k+1)
    # and to the next test (block 2k+2); the last test's false branch is `return None`.
    controls = "[If][Return]" * n + "[Return]"
    exits = "".join(f"[{2 * k + 1},{2 * k + 2}][]" for k in range(n)) + "[]"
    counts = "[0][1]" * n + "[0]"
    assert serialize_cfg(src) == f"[1][SEP1]{controls}[SEP2]{exits}[SEP3]{counts}"


def test_long_call_chain_is_walked_without_recursion():
    # 900 chained calls nest ~1,800 nodes deep, past Python's default recursion limit.
    src = "def f(x):\n    return x" + ".m()" * 900 + "\n"
    assert serialize_cfg(src) == "[1][SEP1][Return][SEP2][][SEP3][900]"


@pytest.mark.parametrize(
    "src",
    [
        "def f(x):\n    return x" + ".m()" * 3000 + "\n",  # the parser runs out of recursion
        "def f(x):\n    return " + "(" * 300 + "x" + ")" * 300 + "\n",  # too many nested parentheses
    ],
    ids=["call_chain", "parentheses"],
)
def test_nesting_beyond_the_parser_is_too_deep(src):
    with pytest.raises(TooDeepError):
        serialize_cfg(src)
    row = serialize_or_error(src)  # batch form: a per-row error, no traceback
    assert row["ast"] is None and row["cfg"] is None and row["error"].startswith("too_deep:")


def test_yields_split_blocks_and_empty_blocks_are_removed():
    # Each yield ends the block; the blocks after them are empty and spliced out,
    # so one block holds the statement and all 300 calls.
    src = "def f(x):\n    y = x" + " + (yield g(x))" * 300 + "\n"
    assert serialize_cfg(src) == "[1][SEP1][None][SEP2][][SEP3][300]"
