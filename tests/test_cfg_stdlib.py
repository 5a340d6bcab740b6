"""Every function of the installed standard library serializes (ast and cfg), with no exception or hang.

The whole-stdlib run happens in a subprocess (`python -m dataset_builder.ir.cfg_corpus`)
with an overall timeout, and each function runs under an alarm inside it, so a hang
fails the test with the function's name instead of blocking the suite.
"""

import ast
import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from dataset_builder.ir import function_sources, serialize_ast, serialize_cfg, serialize_or_error
from dataset_builder.ir.parsing import top_level_functions


@pytest.mark.slow
def test_every_stdlib_function_serializes():
    result = subprocess.run(
        [sys.executable, "-m", "dataset_builder.ir.cfg_corpus"],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    print(
        f"\nstdlib {summary['python']}: {summary['functions']} functions from {summary['files']} files; "
        f"{summary['unparsable_files']} files do not parse {summary['unparsable_by_reason']}:"
    )
    for path, reason in summary["unparsable_file_list"]:
        print(f"  {path}: {reason}")

    assert summary["failures"] == []
    assert summary["functions"] > 20_000
    # Only test data written to be invalid (or for Python 2) may fail to parse.
    for path, _ in summary["unparsable_file_list"]:
        assert {"test", "tests"} & set(Path(path).parts), path
    assert summary["unparsable_files"] < 0.01 * summary["files"]


@pytest.mark.parametrize("module", ["ast.py", "textwrap.py", "json/decoder.py"])
def test_function_sources_are_get_source_segment(module):
    src = (Path(sysconfig.get_paths()["stdlib"]) / module).read_text(encoding="utf-8")
    expected = [ast.get_source_segment(src, fn) for fn in top_level_functions(ast.parse(src))]
    assert [fn.src for fn in function_sources(src)] == expected


def test_function_sources_split_lines_like_the_parser():
    # \r and \r\n end lines, \f and \x1c (in a string) do not; column offsets are UTF-8 bytes.
    src = (
        "def f(x):\r\n    return 'é\x1c€'  \f\r\n\r\n"
        "class K:\r    def m(self): return 'ü' \r\r"
        "    class I:\n        def d(self):\n            pass"
    )
    found = function_sources(src)
    assert [(fn.qualname, fn.lineno) for fn in found] == [("f", 1), ("K.m", 5), ("K.I.d", 8)]
    assert [fn.src for fn in found] == [
        ast.get_source_segment(src, fn) for fn in top_level_functions(ast.parse(src))
    ]


# Every kind of node the grammar has, more or less; `except*` only parses on 3.11+.
SYNTAX_ZOO = [
    """\
async def zoo(a, /, b: int = 1, *args, c, d=2, **kw) -> "R":
    global g
    x: int = (y := 3)
    s = f"{a!r:>{b}} {c=}" + b"raw" + ...
    key = lambda q, *r, **t: q
    items = [i async for i in aiter(a) if await i]
    table = {k: v for k, v in kw.items()} | {*args} | {1, 2}
    match a:
        case {"k": [1, *rest], **others} | Point(x=0, y=[_, *_]) as p if p:
            pass
        case None | True | -1 | 1 + 2j | "s" | Color.RED:
            pass
        case (1, 2) | [3, 4]:
            pass
    async with ctx() as (m, n), other():
        del m, n[0], n.attr
    async for i, j in aiter(b):
        continue
    while not x and y or -x < y <= ~x is not None in t:
        x **= 2; x //= 3; x @= m; x >>= 1; break
    else:
        pass
    for k in range(3):
        if k: continue
    else:
        raise ValueError("no") from None
    assert x, "msg"
    import os.path as osp
    from .. import sibling
    return a[1:2, ::3], (await b), *args
""",
    """\
def gen(x):
    nonlocal_free = 1
    def inner():
        nonlocal nonlocal_free
        yield (yield from x)
    class K(Base, metaclass=Meta):
        attr = 1
    return not (x if x else None)
""",
    """\
def star(x):
    try:
        pass
    except* (TypeError, ValueError) as group:
        raise
    finally:
        done()
""",
]


@pytest.mark.parametrize("src", SYNTAX_ZOO)
def test_one_walk_ast_equals_the_reference_serializer(src):
    try:
        ast.parse(src)
    except SyntaxError:
        pytest.skip(f"needs a newer Python than {sys.version.split()[0]}")
    row = serialize_or_error(src)
    assert row["error"] is None
    assert row["ast"] == serialize_ast(src)
    assert row["cfg"] == serialize_cfg(src)
