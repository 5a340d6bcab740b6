"""The built folder, published into a local hub and served by olah, loads by repo id like the real Hub."""

import json
import subprocess
import sys

import pytest
from dataset_fixtures import build_mbpp_folder, load_report, read_config
from olah_fixtures import hub_client_env, run_against_hub, serve_local_hub

from codereps.hub import publish_to_local_hub
from codereps.paths import DEFAULT_NAMESPACE


@pytest.mark.hub
@pytest.mark.slow
def test_configs_load_by_name_and_the_default_with_no_name_through_olah(tmp_path, shared_data):
    from dataset_fixtures import build

    folder = build_mbpp_folder(tmp_path / "build", shared_data)  # mbpp first, then the seed's codesearchnet
    sample = shared_data / "codesearchnet" / "python_sample.jsonl.gz"
    assert (
        build("build", "--source", "codesearchnet", "--input", sample, "--output", folder, "--filter", "seed")
        == 0
    )
    hub = tmp_path / "hub"
    repo_id = f"{DEFAULT_NAMESPACE}/codereps"
    assert publish_to_local_hub(folder, hub, "dataset", repo_id)
    (tmp_path / "client").mkdir()
    with serve_local_hub(hub) as endpoint:
        out = run_against_hub(
            endpoint,
            f"""
            import json
            from datasets import load_dataset

            ds = load_dataset("{repo_id}", "mbpp")
            default = load_dataset("{repo_id}")  # no config name: the card's default config
            print(json.dumps({{
                "splits": {{name: split.num_rows for name, split in ds.items()}},
                "all_irs": all(all(split["ast"]) and all(split["cfg"]) for split in ds.values()),
                "first_test_task": ds["test"][0]["task_id"],
                "default_splits": {{name: split.num_rows for name, split in default.items()}},
                "default_has_partition": "partition" in default["test"].column_names,
            }}))
            """,
            tmp_path / "client",
        )
    csn = load_report(folder, "codesearchnet")["splits"]
    assert json.loads(out.strip().splitlines()[-1]) == {
        "splits": {"train": 374, "validation": 90, "test": 500, "prompt": 10},
        "all_irs": True,
        "first_test_task": 11,
        "default_splits": {split: info["num_examples"] for split, info in csn.items()},
        "default_has_partition": True,
    }


def write_upstream_repo(folder, config, splits, title, features=None):
    """A Parquet dataset repo in the Hub's layout: `<config>/<split>-00000-of-00001.parquet` + README `configs`."""
    import datasets

    (folder / config).mkdir(parents=True)
    yaml = ["---", "configs:", f"- config_name: {config}", "  data_files:"]
    for split, rows in splits.items():
        path = f"{config}/{split}-00000-of-00001.parquet"
        datasets.Dataset.from_list(rows, features=features).to_parquet(str(folder / path))
        yaml += [f"  - split: {split}", f"    path: {path}"]
    (folder / "README.md").write_text("\n".join([*yaml, "---", "", f"{title} (test copy)."]) + "\n")
    return folder


def make_upstream_mbpp_repo(root, shared_data):
    """A copy of `google-research-datasets/mbpp` (config `full`) in its Hub layout, from the local MBPP file."""
    from dataset_builder.sources.mbpp import MBPPSource, split_of_task

    rows = [json.loads(line) for line in (shared_data / "mbpp" / "mbpp.jsonl").read_text().splitlines()]
    splits = {
        split: [r for r in rows if split_of_task(r["task_id"]) == split]
        for split in ("train", "validation", "test", "prompt")
    }
    return write_upstream_repo(
        root / "upstream-mbpp", "full", splits, "MBPP", features=MBPPSource.metadata_features(None)
    )


@pytest.mark.hub
@pytest.mark.slow
def test_mbpp_source_reads_the_hub_when_no_input_is_given(tmp_path, shared_data):
    """`codereps dataset build --source mbpp` with no --input reads google-research-datasets/mbpp online."""
    hub = tmp_path / "hub"
    assert publish_to_local_hub(
        make_upstream_mbpp_repo(tmp_path, shared_data), hub, "dataset", "google-research-datasets/mbpp"
    )
    local = build_mbpp_folder(tmp_path / "local", shared_data)
    online = tmp_path / "online"
    (tmp_path / "client").mkdir()
    with serve_local_hub(hub) as endpoint:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "codereps",
                "dataset",
                "build",
                "--source",
                "mbpp",
                "--output",
                str(online),
                "--workers",
                "2",
            ],
            env=hub_client_env(endpoint, tmp_path / "client"),
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    report = load_report(online, "mbpp")
    assert report["input"] == "hf:google-research-datasets/mbpp:full" and report["skipped"] == {}
    for split, table in read_config(local, "mbpp").items():
        assert read_config(online, "mbpp")[split].equals(table), split


def make_upstream_codesearchnet_repo(root, shared_data):
    """A copy of `code-search-net/code_search_net` (config `python`) in the Hub's field names, from the sample."""
    import gzip

    from dataset_builder.sources.codesearchnet import HUB_TO_NATIVE

    with gzip.open(shared_data / "codesearchnet" / "python_sample.jsonl.gz", "rt") as f:
        native = [json.loads(line) for line in f]
    splits = {
        split: [
            {hub: r[name] for hub, name in HUB_TO_NATIVE.items()}
            for r in native
            if r["partition"] == partition
        ]
        for split, partition in (("validation", "valid"), ("test", "test"))
    }
    return write_upstream_repo(root / "upstream-csn", "python", splits, "CodeSearchNet")


@pytest.mark.hub
@pytest.mark.slow
def test_codesearchnet_source_reads_the_hub_copy_when_no_input_is_given(tmp_path, shared_data):
    """Without --input, CodeSearchNet comes from the Hub copy, renamed back to the native fields."""
    from dataset_fixtures import build

    hub = tmp_path / "hub"
    assert publish_to_local_hub(
        make_upstream_codesearchnet_repo(tmp_path, shared_data),
        hub,
        "dataset",
        "code-search-net/code_search_net",
    )
    local = tmp_path / "local"
    sample = shared_data / "codesearchnet" / "python_sample.jsonl.gz"
    assert build("build", "--source", "codesearchnet", "--input", sample, "--output", local) == 0
    online = tmp_path / "online"
    (tmp_path / "client").mkdir()
    with serve_local_hub(hub) as endpoint:
        result = subprocess.run(
            [sys.executable, "-m", "codereps", "dataset", "build", "--source", "codesearchnet",
             "--output", str(online), "--workers", "2"],
            env=hub_client_env(endpoint, tmp_path / "client"),
            capture_output=True,
            text=True,
            timeout=600,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = load_report(online, "codesearchnet")
    assert report["input"] == "hf:code-search-net/code_search_net:python" and report["skipped"] == {}
    online_tables, local_tables = read_config(online, "codesearchnet"), read_config(local, "codesearchnet")
    assert sorted(online_tables) == sorted(local_tables) == ["test", "validation"]
    for split, table in local_tables.items():
        assert online_tables[split].equals(table), split


@pytest.mark.hub
@pytest.mark.slow
def test_hub_files_source_reads_parquet_code_files_of_one_language(tmp_path):
    """`--source hub-files`: a github-code-clean-like repo (3 Parquet files, mixed languages) through olah equals
    a local folder of the same Python files, counted the same way, other languages counted apart."""
    import sysconfig
    from collections import Counter
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq
    from dataset_fixtures import build

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    python = [
        (f"{name}.py", (stdlib / f"{name}.py").read_text())
        for name in ("bisect", "colorsys", "shlex", "glob")
    ]
    python += [("pkg/nul.py", "def f():\n    return 1\x00\n"), ("pkg/broken.py", "def f(:\n")]
    rows = [
        {"code": text, "repo_name": "someone/project", "path": path, "language": "Python"}
        for path, text in python
    ]
    rows += [{"code": "function f() {}", "repo_name": "someone/web", "path": f"w{i}.js", "language": "JavaScript"}
             for i in range(2)]  # fmt: skip
    upstream = tmp_path / "upstream"
    (upstream / "data").mkdir(parents=True)
    for i in range(3):
        pq.write_table(
            pa.Table.from_pylist(rows[i::3]), upstream / "data" / f"train-{i:05d}-of-00003.parquet"
        )
    (upstream / "README.md").write_text("---\nlicense: other\n---\n\ngithub-code-clean (test copy).\n")
    hub = tmp_path / "hub"
    assert publish_to_local_hub(upstream, hub, "dataset", "codeparrot/github-code-clean")

    local = tmp_path / "project"
    for row in rows:
        if row["language"] == "Python":
            target = local / row["repo_name"] / row["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(row["code"])
    assert (
        build("build", "--source", "local", "--input", local, "--output", tmp_path / "local", "--tasks", 1)
        == 0
    )

    online = tmp_path / "online"
    (tmp_path / "client").mkdir()
    with serve_local_hub(hub) as endpoint:
        result = subprocess.run(
            [sys.executable, "-m", "codereps", "dataset", "build", "--source", "hub-files",
             "--input", "hf:codeparrot/github-code-clean:data", "--language", "python",
             "--output", str(online), "--tasks", "2", "--workers", "2"],
            env=hub_client_env(endpoint, tmp_path / "client"), capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    report, local_report = load_report(online, "github-code-clean"), load_report(tmp_path / "local", "local")
    assert report["skipped"] == {**local_report["skipped"], "other_language": 2}
    assert local_report["skipped"] == {"nul_bytes": 1, "syntax_error": 1}

    def functions(tables):
        return Counter((split, r["qualname"], r["src"], r["ast"], r["cfg"]) for split, t in tables.items()
                       for r in t.to_pylist())  # fmt: skip

    online_tables = read_config(online, "github-code-clean")
    assert functions(online_tables) == functions(read_config(tmp_path / "local", "local"))
    first = next(iter(online_tables.values())).to_pylist()[0]
    assert first["repo_name"] == "someone/project" and first["language"] == "Python"
