"""Bad input: the build finishes, every skipped row is counted by reason (summary, report, card), nothing is lost."""

import gzip
import json

import pytest
from dataset_fixtures import build, load_config, load_report, read_config

DEEP_EXPRESSION = "def deep():\n    return " + "(" * 10_000 + "1" + ")" * 10_000 + "\n"
LONG_FUNCTION = "def long_one(x):\n" + "".join(f"    x = x + {i}\n" for i in range(50_000)) + "    return x\n"


def csn_row(i, **overrides):
    code = f"def f{i}(a, b):\n    if a:\n        return b\n    return a"
    row = {"repo": "o/r", "path": "m.py", "func_name": f"f{i}", "original_string": code, "language": "python",
           "code": code, "code_tokens": ["def"], "docstring": "", "docstring_tokens": [], "sha": "0" * 40,
           "url": f"https://github.com/o/r/blob/{'0' * 40}/m.py#L{i}", "partition": "test"}  # fmt: skip
    row.update(overrides)
    return row


@pytest.mark.slow  # the 50,000-line function alone takes ~10 s to serialize
def test_bad_json_lines_and_truncated_gzip(tmp_path, capsys):
    lines = [
        json.dumps(csn_row(0)),
        "{not json",
        json.dumps({k: v for k, v in csn_row(1).items() if k != "code"}),  # no source field
        json.dumps(["a", "list"]),
        json.dumps(csn_row(2, code=DEEP_EXPRESSION)),
        json.dumps(csn_row(3, code=LONG_FUNCTION)),
        json.dumps(csn_row(4, code="def broken(:\n    pass")),
        json.dumps(csn_row(5, code=123)),
        json.dumps(csn_row(6, partition="dev")),
        json.dumps(csn_row(7, code="def nul():\n    return '\x00'")),
        json.dumps(csn_row(8, code_tokens="not a list")),
    ]
    lines += [json.dumps(csn_row(100 + i)) for i in range(3000)]
    data = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "python_test_0.jsonl.gz"
    path.write_bytes(data[: len(data) - 200])  # truncated: the stream end and the last rows are gone

    readable = 0  # lines a plain gzip reader gets before the damage
    with gzip.open(path, "rb") as f:
        try:
            for _ in f:
                readable += 1
        except EOFError:
            pass
    assert 11 < readable < len(lines)

    folder = tmp_path / "ds"
    assert (
        build("build", "--source", "codesearchnet", "--input", path, "--output", folder, "--workers", 2) == 0
    )
    report = load_report(folder, "codesearchnet")
    assert report["skipped"] == {
        "bad_field": 1,
        "bad_source_type": 1,
        "invalid_json": 1,
        "missing_field": 1,
        "not_an_object": 1,
        "nul_bytes": 1,
        "syntax_error": 1,
        "too_deep": 1,
        "truncated_input": 1,
        "unknown_partition": 1,
    }
    assert report["items_read"] == readable + 1  # every readable line, plus the one truncation record
    kept = readable - 9  # 9 bad lines; row 0, the 50,000-line function and the good rows are kept
    assert report["rows_written"] == kept
    test = load_config(folder, "codesearchnet", split="test")
    assert test.num_rows == kept
    assert test["func_name"][:2] == ["f0", "f3"]
    assert test[1]["src_lines"] == 50_002 and test[1]["cfg"]
    assert "python_test_0.jsonl.gz:2:" in report["skipped_examples"]["invalid_json"][0]
    reference = tmp_path / "reference"  # the in-process builder counts the same, and writes the same rows
    assert build("build", "--source", "codesearchnet", "--input", path, "--output", reference,
                 "--executor", "datasets") == 0  # fmt: skip
    for key in ("items_read", "rows_written", "skipped", "skipped_examples"):
        assert load_report(reference, "codesearchnet")[key] == report[key], key
    assert read_config(reference, "codesearchnet")["test"].equals(
        read_config(folder, "codesearchnet")["test"]
    )
    card = (folder / "README.md").read_text()
    assert "`truncated_input` 1" in card and "`too_deep` 1" in card and "`missing_field` 1" in card
    assert "skipped: {" in capsys.readouterr().out


@pytest.mark.slow  # the 50,000-line function alone takes ~10 s to serialize
def test_bad_python_files_in_a_local_folder(tmp_path):
    project = tmp_path / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "good.py").write_text(
        "def ok(a):\n    return a\n\nclass C:\n    def m(self):\n        return 1\n"
    )
    (project / "pkg" / "latin.py").write_bytes(
        b"# -*- coding: latin-1 -*-\ndef caf\xe9():\n    return '\xe9'\n"
    )
    (project / "pkg" / "not_utf8.py").write_bytes(b"def f():\n    return '\xff\xfe'\n")
    (project / "pkg" / "nul.py").write_bytes(b"def f():\n    return 1\x00\n")
    (project / "pkg" / "deep.py").write_text(DEEP_EXPRESSION)
    (project / "pkg" / "long.py").write_text(LONG_FUNCTION)
    (project / "pkg" / "py2.py").write_text("def f():\n    print 'hello'\n")
    (project / "notes.txt").write_text("def not_python(): pass\n")

    folder = tmp_path / "ds"
    assert build("build", "--source", "local", "--input", project, "--output", folder) == 0
    report = load_report(folder, "local")
    assert report["skipped"] == {"decode_error": 1, "nul_bytes": 1, "syntax_error": 1, "too_deep": 1}
    rows = [r for table in read_config(folder, "local").values() for r in table.to_pylist()]
    assert sorted((r["path"], r["qualname"]) for r in rows) == [
        ("good.py", "C.m"), ("good.py", "ok"), ("pkg/latin.py", "café"), ("pkg/long.py", "long_one"),
    ]  # fmt: skip
    assert {r["func_name"] for r in rows} == {"m", "ok", "café", "long_one"}
    assert all(r["ast"] and r["cfg"] for r in rows)
    assert any("pkg/nul.py" in e for e in report["skipped_examples"]["nul_bytes"])


def test_a_failed_build_loses_nothing_already_written(tmp_path, monkeypatch, capsys):
    project = tmp_path / "project"
    project.mkdir()
    (project / "a.py").write_text("def a(x):\n    return x\n")
    folder = tmp_path / "ds"
    assert build("build", "--source", "local", "--input", project, "--output", folder) == 0
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    (project / "b.py").write_text("def b(x):\n    return x\n")
    from dataset_builder import writer

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer, "write_split", disk_full)  # the in-process builder's writer
    with pytest.raises(OSError, match="No space left"):
        build("build", "--source", "local", "--input", project, "--output", folder, "--overwrite",
              "--executor", "datasets")  # fmt: skip
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before  # old config, report and card intact, no staging left behind

    from dataset_builder.pipeline import SplitParquetWriter

    monkeypatch.setattr(SplitParquetWriter, "_write", disk_full)  # a datatrove task's writer (in-process)
    assert build("build", "--source", "local", "--input", project, "--output", folder, "--overwrite",
                 "--workers", 1) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert "task(s) 0 of 1 did not finish (OSError: [Errno 28] No space left on device)" in err
    assert "run the same command again" in err and "Traceback" not in err
    published = {p: b for p, b in before.items() if ".staging" not in p.parts}
    assert {
        p: p.read_bytes() for p in folder.rglob("*") if p.is_file() and ".staging" not in p.parts
    } == published
    monkeypatch.undo()
    assert build("build", "--source", "local", "--input", project, "--output", folder, "--overwrite",
                 "--workers", 1) == 0  # fmt: skip
    assert load_report(folder, "local")["rows_written"] == 2 and not (folder / ".staging").exists()


def test_existing_configs_are_not_clobbered(tmp_path, capsys):
    project = tmp_path / "project"
    project.mkdir()
    (project / "a.py").write_text("def a(x):\n    return x\n")
    folder = tmp_path / "ds"
    assert build("build", "--source", "local", "--input", project, "--output", folder) == 0
    assert build("build", "--source", "humaneval", "--output", folder) == 0  # another config: added
    readme = (folder / "README.md").read_text()
    assert "config_name: humaneval" in readme and "config_name: local" in readme

    (project / "b.py").write_text("def b(x):\n    return x\n")
    assert build("build", "--source", "local", "--input", project, "--output", folder) == 1
    assert "already has config 'local'" in capsys.readouterr().err
    assert load_report(folder, "local")["rows_written"] == 1
    assert build("build", "--source", "local", "--input", project, "--output", folder, "--overwrite") == 0
    assert load_report(folder, "local")["rows_written"] == 2
    assert load_config(folder, "humaneval", split="test").num_rows == 164
