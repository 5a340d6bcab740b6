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

from dataset_builder.ir import function_sources
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
