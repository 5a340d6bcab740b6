"""`codereps dataset` command line: argument errors, the pairs subcommand, --push (the upload is the one fake)."""

import subprocess
import sys

import pytest
from dataset_fixtures import build, load_report


@pytest.fixture
def tiny_project(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    for i in range(12):
        (project / f"m{i}.py").write_text(f"def f{i}(a):\n    if a:\n        return {i}\n    return a\n")
    return project


def test_help_is_instant_and_lists_actions():
    out = subprocess.run(
        [sys.executable, "-m", "codereps", "dataset", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "codereps dataset build --source mbpp" in out
    assert "build" in out and "pairs" in out and "push" in out


def test_bad_arguments_are_named(tmp_path, tiny_project, capsys):
    assert build("build", "--source", "local", "--output", tmp_path / "ds") == 2
    assert "--source local needs --input" in capsys.readouterr().err
    assert (
        build("build", "--source", "mbpp", "--input", tmp_path / "nope.jsonl", "--output", tmp_path / "ds")
        == 2
    )
    assert "MBPP input not found" in capsys.readouterr().err
    assert build("build", "--source", "local", "--input", tiny_project, "--output", tmp_path / "ds",
                 "--configs", "local", "mbpp") == 2  # fmt: skip
    assert "not mbpp" in capsys.readouterr().err
    assert build("pairs", "--output", tmp_path / "ds", "--from", "codesearchnet") == 1
    assert "no source config 'codesearchnet'" in capsys.readouterr().err
    assert not (tmp_path / "ds").exists()


def test_pairs_subcommand_and_push(tmp_path, tiny_project, monkeypatch):
    folder = tmp_path / "ds"
    assert build("build", "--source", "local", "--input", tiny_project, "--output", folder) == 0
    uploads = []

    from huggingface_hub import HfApi

    # The one thing tests may fake: nothing here accepts uploads (see DESIGN.md).
    monkeypatch.setattr(
        HfApi, "create_repo", lambda self, repo_id, **kw: uploads.append(("create", repo_id, kw))
    )
    monkeypatch.setattr(
        HfApi,
        "upload_folder",
        lambda self, **kw: uploads.append(("upload", kw["repo_id"], kw)) or "commit-url",
    )
    assert build("pairs", "--output", folder, "--from", "local", "--configs", "pairs-src-ast",
                 "--push", "someone/codereps") == 0  # fmt: skip
    report = load_report(folder, "pairs-src-ast")
    assert report["from_config"] == "local" and report["members"] == ["src", "ast"]
    assert sum(info["num_examples"] for info in report["splits"].values()) == 12
    assert [u[:2] for u in uploads] == [("create", "someone/codereps"), ("upload", "someone/codereps")]
    assert uploads[0][2]["repo_type"] == "dataset" and uploads[1][2]["repo_type"] == "dataset"
    assert uploads[1][2]["folder_path"] == str(folder)


def test_rows_and_their_order_do_not_depend_on_tasks_or_workers(tmp_path, tiny_project):
    from collections import Counter

    from dataset_fixtures import read_config

    (tiny_project / "pkg").mkdir()
    (tiny_project / "pkg" / "big.py").write_text(
        "".join(f"def g{i}(x):\n    return x + {i}\n\n" for i in range(40))
    )
    one, three, again = tmp_path / "one", tmp_path / "three", tmp_path / "again"
    assert build("build", "--source", "local", "--input", tiny_project, "--output", one, "--tasks", 1) == 0
    for folder, workers in ((three, 1), (again, 2)):
        assert build("build", "--source", "local", "--input", tiny_project, "--output", folder,
                     "--tasks", 3, "--workers", workers) == 0  # fmt: skip
    first, second, third = (read_config(f, "local") for f in (one, three, again))
    assert first.keys() == second.keys() == third.keys()
    for split in first:
        assert Counter(map(str, first[split].to_pylist())) == Counter(map(str, second[split].to_pylist()))
        assert first[split].equals(second[split]), "rows in input order whatever --tasks"
        assert second[split].equals(third[split]), (
            "same --tasks, other --workers: same rows in the same order"
        )
    assert sum(t.num_rows for t in first.values()) == 52


def test_default_config_is_codesearchnet_else_the_first_built_else_chosen(
    tmp_path, tiny_project, shared_data
):
    from huggingface_hub import DatasetCard

    def default(folder):
        configs = DatasetCard.load(folder / "README.md").data.configs
        return [c["config_name"] for c in configs if c.get("default")]

    folder = tmp_path / "ds"
    assert build("build", "--source", "local", "--input", tiny_project, "--output", folder, "--tasks", 1) == 0
    assert build("build", "--source", "humaneval", "--output", folder, "--tasks", 1) == 0
    assert default(folder) == ["local"]  # the first config built
    assert build("build", "--source", "local", "--input", tiny_project, "--output", folder, "--tasks", 1,
                 "--overwrite") == 0  # fmt: skip
    assert default(folder) == ["local"], "rebuilding a config keeps its place as the first built"
    sample = shared_data / "codesearchnet" / "python_sample.jsonl.gz"
    assert build("build", "--source", "codesearchnet", "--input", sample, "--output", folder, "--tasks", 1,
                 "--filter", "seed") == 0  # fmt: skip
    assert default(folder) == ["codesearchnet"]  # the seed's own dataset whenever the folder has it
    assert build("build", "--source", "mbpp", "--input", shared_data / "mbpp" / "mbpp.jsonl", "--output", folder,
                 "--tasks", 1, "--default-config", "humaneval") == 0  # fmt: skip
    assert default(folder) == ["humaneval"]  # chosen at build time, and kept by later builds
    assert build("pairs", "--output", folder, "--from", "local", "--configs", "pairs-src-ast") == 0
    assert default(folder) == ["humaneval"]
    assert (
        'ds = load_dataset("mrochk/codereps")  # the default config, `humaneval`'
        in (folder / "README.md").read_text()
    )
    assert (
        build("build", "--source", "humaneval", "--output", tmp_path / "x", "--default-config", "nope") == 2
    )
