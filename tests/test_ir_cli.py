"""`codereps ir` end to end, as a real subprocess."""

import gzip
import json
import subprocess
import sys

import pytest

from dataset_builder.ir import serialize_or_error

CODEREPS = [sys.executable, "-m", "codereps"]


def run_cli(*args, stdin=None):
    return subprocess.run([*CODEREPS, "ir", *args], input=stdin, capture_output=True, text=True, timeout=300)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_file_mode_prints_every_function_and_method(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "import os\n\n"
        "def top(a, b):\n    return a + b\n\n"
        "class K:\n    def method(self):\n        return os.getcwd()\n\n"
        "    class Inner:\n        def deep(self, x):\n            if x:\n                return 1\n"
    )
    result = run_cli(str(path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for name in ("top", "K.method", "K.Inner.deep"):
        assert f"# {name} (line" in out
    first = out.split("\n\n")[0].splitlines()
    expected = serialize_or_error("def top(a, b):\n    return a + b")
    assert first[1] == f"ast: {expected['ast']}"
    assert first[2] == f"cfg: {expected['cfg']}"


def test_file_mode_reports_unparsable_file(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("def f(:\n")
    result = run_cli(str(path))
    assert result.returncode == 1
    assert "bad.py" in result.stderr and "does not parse" in result.stderr


def test_codesearchnet_sample_writes_250_rows_in_input_order(shared_data, tmp_path):
    src = shared_data / "codesearchnet" / "python_sample.jsonl.gz"
    out = tmp_path / "build" / "x.jsonl"
    result = run_cli(str(src), "--src-field", "code", "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = read_jsonl(out)
    with gzip.open(src, "rt") as f:
        urls = [json.loads(line)["url"] for line in f]
    assert [r["url"] for r in rows] == urls
    assert len(rows) == 250
    assert all(r["ast"] and r["cfg"] and r["error"] is None for r in rows)
    assert "250 rows" in result.stderr


def test_bad_rows_are_kept_with_an_error_and_counted(tmp_path):
    lines = [
        json.dumps({"id": 1, "src": "def f(x):\n    return x"}),
        "{not json",
        json.dumps({"id": 3, "code": "def g():\n    pass"}),
        json.dumps({"id": 4, "src": "def h(:"}),
        json.dumps([1, 2]),
        json.dumps({"id": 6, "src": "y = 2"}),
    ]
    inp = tmp_path / "in.jsonl"
    inp.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    result = run_cli(str(inp), "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = read_jsonl(out)
    assert len(rows) == 6
    assert rows[0]["error"] is None and rows[0]["ast"].startswith("MODULE_FUNCTIONDEF")
    reasons = [r["error"] and r["error"].split(":")[0] for r in rows]
    assert reasons == [None, "invalid_json", "missing_field", "syntax_error", "not_an_object", "no_function"]
    assert "line 2" in rows[1]["error"]
    assert rows[2]["id"] == 3, "the row's own fields are kept"
    assert "1 ok, 5 with error" in result.stderr


def test_stdin_to_stdout_with_src_field():
    rows = [{"code": f"def f{i}(x):\n    return x + {i}"} for i in range(5)]
    result = run_cli("-", "-o", "-", "--src-field", "code", stdin="".join(json.dumps(r) + "\n" for r in rows))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["code"] for r in out] == [r["code"] for r in rows]
    assert all(r["cfg"] for r in out)


def test_workers_keep_order_and_match_single_process(funcskeleton_golden, tmp_path):
    inp = tmp_path / "in.jsonl.gz"
    with gzip.open(inp, "wt") as f:
        for r in funcskeleton_golden[:300]:
            f.write(json.dumps({"func_name": r["func_name"], "src": r["src"]}) + "\n")
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert run_cli(str(inp), "-o", str(one)).returncode == 0
    assert run_cli(str(inp), "-o", str(two), "--workers", "2").returncode == 0
    assert one.read_text() == two.read_text()
    assert len(read_jsonl(two)) == 300


def test_truncated_gzip_keeps_rows_already_written(funcskeleton_golden, tmp_path):
    full = tmp_path / "full.jsonl.gz"
    with gzip.open(full, "wt") as f:
        for r in funcskeleton_golden[:400]:
            f.write(json.dumps({"src": r["src"]}) + "\n")
    data = full.read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out.jsonl"
    result = run_cli(str(cut), "-o", str(out))
    assert result.returncode == 1
    assert "cut.jsonl.gz" in result.stderr and "broke off" in result.stderr
    rows = read_jsonl(out)
    assert 0 < len(rows) < 400
    assert [r["src"] for r in rows] == [r["src"] for r in funcskeleton_golden[: len(rows)]]


@pytest.mark.parametrize("argv", [["--help"], ["ir", "--help"]])
def test_help_is_available(argv):
    result = subprocess.run([*CODEREPS, *argv], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "codereps" in result.stdout
