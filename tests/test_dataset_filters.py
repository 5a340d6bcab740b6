"""`--filter seed` reproduces the seed's selection and counts removals per rule; the local source matches funcskeleton's inputs."""

import json
import shutil
import sysconfig
from pathlib import Path

import pytest
from dataset_fixtures import build, load_report, read_config

from dataset_builder.filters import first_failed_rule
from dataset_builder.sources.local import split_of_path


def mbpp_like(task_id, code):
    return {
        "task_id": task_id,
        "text": "t",
        "code": code,
        "test_list": [],
        "test_setup_code": "",
        "challenge_test_list": [],
    }


ROWS = [
    mbpp_like(601, "def plain(a, b):\n    return a + b"),
    mbpp_like(602, "def outer(a):\n    def inner(b):\n        return b\n    return inner(a)"),
    mbpp_like(603, "class A:\n    pass\ndef uses(a):\n    return A()"),
    mbpp_like(604, "def star(*args):\n    return args"),
    mbpp_like(605, "def times(a, b):\n    return a * b"),
    mbpp_like(606, 'def doc(a):\n    """Say: def something."""\n    return a'),  # `def ` twice in the text
    mbpp_like(607, "import math\ndef area(r):\n    return math.pi * r * r"),  # `*`: removed as has_star
    mbpp_like(608, "def both(*a):\n    class B:\n        pass"),  # fails two rules, charged to the first
]


@pytest.mark.parametrize(
    ("src", "rule"),
    [(r["code"], rule) for r, rule in zip(ROWS, [None, "def_count_not_one", "has_class", "has_star", "has_star",
                                                "def_count_not_one", "has_star", "has_class"], strict=True)],
)  # fmt: skip
def test_seed_rules_in_order(src, rule):
    failed = first_failed_rule("seed", src)
    assert (failed.name if failed else None) == rule
    assert first_failed_rule("none", src) is None


def test_build_counts_removed_rows_per_rule(tmp_path):
    path = tmp_path / "mbpp.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    seed = tmp_path / "seed"
    assert build("build", "--source", "mbpp", "--input", path, "--output", seed, "--filter", "seed") == 0
    report = load_report(seed, "mbpp")
    assert report["removed_by_filter"] == {"def_count_not_one": 2, "has_class": 2, "has_star": 3}
    assert read_config(seed, "mbpp")["train"].column("task_id").to_pylist() == [601]
    card = (seed / "README.md").read_text()
    assert "Removed by the filter: `def_count_not_one` 2, `has_class` 2, `has_star` 3." in card

    everything = tmp_path / "none"
    assert (
        build("build", "--source", "mbpp", "--input", path, "--output", everything, "--filter", "none") == 0
    )
    assert load_report(everything, "mbpp")["removed_by_filter"] == {}
    assert read_config(everything, "mbpp")["train"].num_rows == len(ROWS)


STDLIB_FILES = [
    "json/decoder.py",
    "json/encoder.py",
    "json/scanner.py",
    "glob.py",
    "heapq.py",
    "shlex.py",
    "textwrap.py",
]


@pytest.mark.slow
def test_local_stdlib_with_seed_filter_contains_funcskeletons_rows(tmp_path, funcskeleton_golden):
    """funcskeleton's reference rows were cut from these CPython 3.11.7 files with the same filter."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    project = tmp_path / "stdlib"
    for rel in STDLIB_FILES:
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(stdlib / rel, project / rel)
    folder = tmp_path / "ds"
    assert (
        build("build", "--source", "local", "--input", project, "--output", folder, "--filter", "seed") == 0
    )
    rows = {(r["path"], r["src"]): r for t in read_config(folder, "local").values() for r in t.to_pylist()}
    golden = [g for g in funcskeleton_golden if g["path"] in STDLIB_FILES]
    assert len(golden) >= 15
    for g in golden:
        row = rows.get((g["path"], g["src"]))
        assert row is not None, f"{g['path']} {g['func_name']} missing"
        assert (row["func_name"], row["ast"], row["cfg"]) == (g["func_name"], g["ast"], g["cfg"])
        assert split_of_path(g["path"]) in read_config(folder, "local")
