"""Local hub publishing (git repos) and reading them back by name through a real olah server."""

import json
import subprocess

import publish_fixtures
import pytest
from olah_fixtures import run_against_hub, serve_local_hub

from codereps.hub import (
    HubPublishError,
    RepoConflictError,
    head_commit,
    list_local_repos,
    local_repo_path,
    publish_to_local_hub,
)


def make_dataset_folder(root):
    return publish_fixtures.make_dataset_folder(root / "dataset")


def make_model_folder(root):
    return publish_fixtures.make_model_folder(root / "model")


def test_publish_is_idempotent_and_commits_on_main(tmp_path):
    folder = make_dataset_folder(tmp_path)
    hub = tmp_path / "hub"
    sha = publish_to_local_hub(folder, hub, "dataset", "ns/tiny")
    repo = local_repo_path(hub, "dataset", "ns/tiny")
    assert repo == hub / "datasets" / "ns" / "tiny"
    assert sha == head_commit(repo) and len(sha) == 40
    files = subprocess.run(
        ["git", "-C", repo, "ls-tree", "-r", "--name-only", "main"], capture_output=True, text=True
    )
    assert files.stdout.split() == [
        "README.md",
        "data/tiny/test-00000-of-00001.parquet",
        "data/tiny/train-00000-of-00001.parquet",
    ]
    assert publish_to_local_hub(folder, hub, "datasets", "ns/tiny") is None
    assert head_commit(repo) == sha
    assert list_local_repos(hub) == [("dataset", "ns/tiny", repo)]


def test_adding_files_commits_but_changing_them_needs_overwrite(tmp_path):
    folder = make_dataset_folder(tmp_path)
    hub = tmp_path / "hub"
    first = publish_to_local_hub(folder, hub, "dataset", "ns/tiny")

    (folder / "extra.json").write_text("{}")
    second = publish_to_local_hub(folder, hub, "dataset", "ns/tiny")
    assert second not in (None, first)

    (folder / "README.md").write_text("---\nlicense: mit\n---\n")
    (folder / "extra.json").unlink()
    with pytest.raises(
        RepoConflictError, match=r"ns/tiny.*change 1 file\(s\): README.md.*remove 1 file\(s\): extra.json"
    ):
        publish_to_local_hub(folder, hub, "dataset", "ns/tiny")
    repo = local_repo_path(hub, "dataset", "ns/tiny")
    assert head_commit(repo) == second and (repo / "extra.json").exists()  # nothing touched

    third = publish_to_local_hub(folder, hub, "dataset", "ns/tiny", overwrite=True)
    assert third not in (None, second)
    assert not (repo / "extra.json").exists() and (repo / "README.md").read_text().startswith(
        "---\nlicense: mit"
    )


@pytest.mark.parametrize(
    ("repo_type", "repo_id", "match"),
    [("dataset", "no-namespace", "must be '<namespace>/<name>'"), ("notebook", "ns/x", "unknown repo type")],
)
def test_bad_repo_arguments_are_named(tmp_path, repo_type, repo_id, match):
    folder = make_dataset_folder(tmp_path)
    with pytest.raises(HubPublishError, match=match):
        publish_to_local_hub(folder, tmp_path / "hub", repo_type, repo_id)


def test_empty_or_missing_folder_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(HubPublishError, match="holds no files"):
        publish_to_local_hub(tmp_path / "empty", tmp_path / "hub", "model", "ns/m")
    with pytest.raises(HubPublishError, match="is not a folder"):
        publish_to_local_hub(tmp_path / "missing", tmp_path / "hub", "model", "ns/m")


@pytest.mark.hub
@pytest.mark.slow
def test_dataset_and_model_load_by_name_through_olah(tmp_path):
    hub = tmp_path / "hub"
    publish_to_local_hub(make_dataset_folder(tmp_path), hub, "dataset", "ns/tiny-data")
    publish_to_local_hub(make_model_folder(tmp_path), hub, "model", "ns/tiny-llama")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "m.json").write_text(json.dumps({"model": "ns/tiny-llama", "pass@1": 0.25}))
    publish_to_local_hub(tmp_path / "results", hub, "dataset", "ns/tiny-results")

    with serve_local_hub(hub) as endpoint:
        out = run_against_hub(
            endpoint,
            """
            import json
            from datasets import load_dataset
            from huggingface_hub import hf_hub_download
            from transformers import AutoModelForCausalLM, AutoTokenizer

            ds = load_dataset("ns/tiny-data", "tiny")
            tok = AutoTokenizer.from_pretrained("ns/tiny-llama")
            model = AutoModelForCausalLM.from_pretrained("ns/tiny-llama")
            ids = tok("def add(a, b):", return_tensors="pt").input_ids
            gen = model.generate(ids, max_new_tokens=5, min_new_tokens=5, do_sample=False)
            results = json.load(open(hf_hub_download("ns/tiny-results", "m.json", repo_type="dataset")))
            print(json.dumps({
                "splits": {k: v.num_rows for k, v in ds.items()},
                "first_src": ds["train"][0]["src"],
                "n_new_tokens": gen.shape[1] - ids.shape[1],
                "model_type": model.config.model_type,
                "pass@1": results["pass@1"],
            }))
            """,
            tmp_path,
        )
    report = json.loads(out.strip().splitlines()[-1])
    assert report == {
        "splits": {"train": 3, "test": 2},
        "first_src": "def f0(): return 0",
        "n_new_tokens": 5,
        "model_type": "llama",
        "pass@1": 0.25,
    }


def test_seeded_main_revisions_are_what_olah_reads_offline(tmp_path):
    import asyncio
    from types import SimpleNamespace

    from olah.utils.repo_utils import get_commit_hf_offline, get_newest_commit_hf_offline
    from olah_fixtures import seed_main_revisions

    hub, cache = tmp_path / "hub", tmp_path / "cache"
    sha = publish_to_local_hub(make_dataset_folder(tmp_path), hub, "dataset", "ns/tiny")
    assert seed_main_revisions(hub, cache) == ["datasets/ns/tiny"]
    app = SimpleNamespace(
        state=SimpleNamespace(app_settings=SimpleNamespace(config=SimpleNamespace(repos_path=str(cache))))
    )
    assert asyncio.run(get_commit_hf_offline(app, "datasets", "ns", "tiny", "main")) == sha
    assert asyncio.run(get_newest_commit_hf_offline(app, "datasets", "ns", "tiny")) == sha
    assert asyncio.run(get_commit_hf_offline(app, "datasets", "ns", "other", "main")) is None
