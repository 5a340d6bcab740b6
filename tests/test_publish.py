"""`codereps publish`: a run folder -> every Hub repo, on a local hub (git) or through HfApi (recorded)."""

import hashlib
import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from olah_fixtures import run_against_hub, serve_local_hub
from publish_fixtures import make_run_folder

from codereps.cli import main as codereps_main
from codereps.hub import head_commit, list_local_repos

FAKE_TOKEN = "hf_" + "Q7x" * 12  # shaped like a real token so a leak would be caught by the pattern too

EXPECTED_REPOS = {
    ("dataset", "ns/codereps"),
    ("model", "ns/codereps-cfg-tokenizer"),
    ("model", "ns/codereps-tiny-C"),
    ("dataset", "ns/codereps-results"),
    ("space", "ns/pass_at_k"),
    ("space", "ns/codereps-leaderboard"),
}


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    return make_run_folder(tmp_path_factory.mktemp("publish"))


def _repo_files(repo_path) -> list:
    out = subprocess.run(
        ["git", "-C", repo_path, "ls-tree", "-r", "--name-only", "main"], capture_output=True, text=True
    )
    return out.stdout.split()


def _publish(*args) -> int:
    return codereps_main(["publish", *map(str, args)])


def test_dry_run_lists_every_repo_and_writes_nothing(run_folder, tmp_path, capsys):
    hub = tmp_path / "hub"
    assert _publish("--from", run_folder, "--local-hub", hub, "--namespace", "ns", "--dry-run") == 0
    out = capsys.readouterr().out
    for repo_type, repo_id in EXPECTED_REPOS:
        assert any(repo_id + " " in line and f" {repo_type} " in line for line in out.splitlines()), repo_id
    assert "(dry run)" in out and not hub.exists()


def test_local_hub_gets_every_repo_and_republishing_commits_nothing(run_folder, tmp_path, capsys):
    hub = tmp_path / "hub"
    assert _publish("--from", run_folder, "--local-hub", hub, "--namespace", "ns") == 0
    repos = {(repo_type, repo_id): path for repo_type, repo_id, path in list_local_repos(hub)}
    assert set(repos) == EXPECTED_REPOS

    model_files = _repo_files(repos["model", "ns/codereps-tiny-C"])
    assert {"README.md", "config.json", "model.safetensors", "tokenizer.json"} <= set(model_files)
    assert {"adapter/adapter_config.json", "adapter/adapter_model.safetensors"} <= set(model_files)
    results_files = _repo_files(repos["dataset", "ns/codereps-results"])
    assert (
        "codereps-tiny-phi-B.json" in results_files and "tokenizer_report/compression.json" in results_files
    )
    space_files = _repo_files(repos["space", "ns/codereps-leaderboard"])
    assert {"app.py", "leaderboard_data.py", "requirements.txt", "README.md"} <= set(space_files)
    assert "results/codereps-tiny-phi-B.json" in space_files and "cli.py" not in space_files
    assert "pass_at_k.py" in _repo_files(repos["space", "ns/pass_at_k"])
    readme = (repos["space", "ns/codereps-leaderboard"] / "README.md").read_text()
    assert "- ns/codereps-tiny-C" in readme and "sdk: gradio" in readme

    heads = {key: head_commit(path) for key, path in repos.items()}
    capsys.readouterr()
    assert _publish("--from", run_folder, "--local-hub", hub, "--namespace", "ns") == 0
    assert "0 committed, 6 unchanged, 0 failed" in capsys.readouterr().out
    assert {key: head_commit(path) for key, path in repos.items()} == heads


def test_changed_results_need_overwrite(tmp_path, capsys):
    run = make_run_folder(tmp_path)
    hub = tmp_path / "hub"
    assert _publish("--from", run, "--local-hub", hub, "--namespace", "ns") == 0
    result_file = run / "results" / "codereps-tiny-phi-B.json"
    result = json.loads(result_file.read_text())
    result_file.write_text(json.dumps({**result, "pass@1": 0.9}))

    capsys.readouterr()
    assert _publish("--from", run, "--local-hub", hub, "--namespace", "ns") == 1
    out = capsys.readouterr().out
    assert "ns/codereps-results: error: ns/codereps-results at" in out
    assert (
        "would change 2 file(s): README.md, codereps-tiny-phi-B.json" in out
    )  # the card's table changes too
    assert "ns/codereps-tiny-C: unchanged" in out
    assert "0 committed, 4 unchanged, 2 failed" in out  # results dataset and the Space bundling them

    assert _publish("--from", run, "--local-hub", hub, "--namespace", "ns", "--overwrite") == 0
    published = hub / "datasets" / "ns" / "codereps-results" / "codereps-tiny-phi-B.json"
    assert json.loads(published.read_text())["pass@1"] == 0.9


def test_missing_model_card_is_reported(tmp_path, capsys):
    run = make_run_folder(tmp_path)
    (run / "models" / "tiny-C" / "merged" / "README.md").unlink()
    (run / "models" / "tiny-C" / "adapter" / "README.md").unlink(missing_ok=True)
    hub = tmp_path / "hub"
    assert _publish("--from", run, "--local-hub", hub, "--namespace", "ns") == 1
    out = capsys.readouterr().out
    assert (
        "ns/codereps-tiny-C" in out and "NOT PUBLISHABLE: model tiny-C has no model card (README.md in" in out
    )
    assert "5 committed, 0 unchanged, 1 failed" in out  # the other repos are published
    assert not (hub / "models" / "ns" / "codereps-tiny-C").exists()


def test_model_card_beside_merged_goes_to_the_repo_root(tmp_path, capsys):
    run = make_run_folder(tmp_path)
    model_dir = run / "models" / "tiny-C"
    (model_dir / "merged" / "README.md").rename(model_dir / "README.md")
    (model_dir / "checkpoint-2").mkdir()
    (model_dir / "checkpoint-2" / "optimizer.pt").write_bytes(b"state")
    (model_dir / "training_log.json").write_text("{}")
    hub = tmp_path / "hub"
    assert _publish("--from", run, "--local-hub", hub, "--namespace", "ns") == 0
    files = _repo_files(hub / "models" / "ns" / "codereps-tiny-C")
    assert {"README.md", "training_log.json", "config.json", "adapter/adapter_config.json"} <= set(files)
    assert not any(f.startswith("checkpoint-") for f in files)


class RecordingHfApi:
    """Stands in for `huggingface_hub.HfApi` (the one call tests may fake): records calls, keeps repo state."""

    instances = []

    def __init__(self, token=None):
        self.token = token
        self.calls = []
        self.repos = {}  # (repo_type, repo_id) -> {path: git blob sha1}
        RecordingHfApi.instances.append(self)

    def repo_exists(self, repo_id, repo_type=None):
        self.calls.append(("repo_exists", repo_id, repo_type))
        return (repo_type, repo_id) in self.repos

    def create_repo(self, repo_id, repo_type=None, exist_ok=False, space_sdk=None):
        self.calls.append(("create_repo", repo_id, repo_type, space_sdk))
        self.repos.setdefault((repo_type, repo_id), {".gitattributes": "0" * 40})

    def list_repo_tree(self, repo_id, repo_type=None, recursive=False):
        self.calls.append(("list_repo_tree", repo_id, repo_type))
        return [
            SimpleNamespace(path=p, blob_id=b, lfs=None) for p, b in self.repos[repo_type, repo_id].items()
        ]

    def upload_folder(
        self, folder_path, repo_id, repo_type=None, commit_message=None, delete_patterns=None, **kw
    ):
        folder = Path(folder_path)
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        self.calls.append(("upload_folder", repo_id, repo_type, files))
        state = self.repos[repo_type, repo_id]
        for pattern in delete_patterns or []:
            state.pop(pattern, None)
        for rel in files:
            data = (folder / rel).read_bytes()
            state[rel] = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        return SimpleNamespace(oid=hashlib.sha1(repr(sorted(state.items())).encode()).hexdigest())


def test_hub_upload_calls_with_token_from_env(run_folder, tmp_path, monkeypatch, capsys):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "HfApi", RecordingHfApi)
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    RecordingHfApi.instances.clear()

    assert _publish("--from", run_folder, "--namespace", "ns") == 0
    (api,) = RecordingHfApi.instances
    assert api.token == FAKE_TOKEN
    created = {(c[2], c[1]) for c in api.calls if c[0] == "create_repo"}
    assert created == EXPECTED_REPOS
    assert {c[1]: c[3] for c in api.calls if c[0] == "create_repo"}["ns/codereps-leaderboard"] == "gradio"
    uploads = {(c[2], c[1]): c[3] for c in api.calls if c[0] == "upload_folder"}
    assert set(uploads) == EXPECTED_REPOS
    assert "data/tiny/train-00000-of-00001.parquet" in uploads["dataset", "ns/codereps"]
    assert "adapter/adapter_model.safetensors" in uploads["model", "ns/codereps-tiny-C"]

    # Same content again: compared against the (recorded) remote tree, nothing is uploaded.
    api.calls.clear()
    RecordingHfApi.instances.clear()
    monkeypatch.setattr(huggingface_hub, "HfApi", lambda token=None: api)
    assert _publish("--from", run_folder, "--namespace", "ns") == 0
    assert [c for c in api.calls if c[0] in ("upload_folder", "create_repo")] == []

    out = capsys.readouterr()
    assert FAKE_TOKEN not in out.out + out.err
    for path in [*run_folder.rglob("*"), *tmp_path.rglob("*")]:
        if path.is_file():
            assert FAKE_TOKEN.encode() not in path.read_bytes(), f"token written to {path}"


def test_no_token_is_a_clear_error(run_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty_hf_home"))
    assert _publish("--from", run_folder, "--namespace", "ns") == 1
    assert "no Hugging Face token: set HF_TOKEN" in capsys.readouterr().err


@pytest.mark.hub
@pytest.mark.slow
def test_published_run_is_used_by_name_through_olah(run_folder, tmp_path):
    hub = tmp_path / "hub"
    assert _publish("--from", run_folder, "--local-hub", hub, "--namespace", "ns") == 0
    with serve_local_hub(hub) as endpoint:
        out = run_against_hub(
            endpoint,
            """
            import json
            import os

            import evaluate
            from datasets import load_dataset
            from huggingface_hub import hf_hub_download
            from peft import PeftConfig
            from transformers import AutoModelForCausalLM, AutoTokenizer

            ds = load_dataset("ns/codereps", "tiny")
            ir_tokenizer = AutoTokenizer.from_pretrained("ns/codereps-cfg-tokenizer")
            tok = AutoTokenizer.from_pretrained("ns/codereps-tiny-C")
            model = AutoModelForCausalLM.from_pretrained("ns/codereps-tiny-C")
            ids = tok("def add(a, b):", return_tensors="pt").input_ids
            gen = model.generate(ids, max_new_tokens=4, min_new_tokens=4, do_sample=False)
            adapter = PeftConfig.from_pretrained("ns/codereps-tiny-C", subfolder="adapter")
            result = json.load(open(hf_hub_download("ns/codereps-results", "codereps-tiny-phi-B.json", repo_type="dataset")))
            # revision="main": evaluate first asks for its own version tag, which olah offline answers with 401
            # where the Hub answers 404 (the cue evaluate needs to fall back to main).
            pass_at_k = evaluate.load("ns/pass_at_k", revision="main")
            os.environ["HF_ALLOW_CODE_EVAL"] = "1"
            scores = pass_at_k.compute(
                references=["assert f() == 1"], predictions=[["def f(): return 1", "def f(): return 2"]], k=[1, 2]
            )
            print(json.dumps({
                "train_rows": ds["train"].num_rows,
                "ir_ids": ir_tokenizer("def neg(x):").input_ids,
                "new_tokens": gen.shape[1] - ids.shape[1],
                "lora_r": adapter.r,
                "pass@1": result["pass@1"],
                "metric": [scores["pass@1"], scores["pass@2"]],
            }))
            """,
            tmp_path,
        )
    from transformers import AutoTokenizer

    local_ids = AutoTokenizer.from_pretrained(run_folder / "tokenizers" / "cfg-512")("def neg(x):").input_ids
    assert json.loads(out.strip().splitlines()[-1]) == {
        "train_rows": 3,
        "ir_ids": local_ids,
        "new_tokens": 4,
        "lora_r": 4,
        "pass@1": 0.35,
        "metric": [0.5, 1.0],
    }


def test_run_entries_no_repo_takes_are_listed(tmp_path, capsys):
    run = make_run_folder(tmp_path)
    (run / "base-model").mkdir()
    (run / "tokenizers" / "cfg-extended").mkdir()
    (run / "tokenizers" / "cfg-extended" / "tokenizer.json").write_text("{}")
    assert _publish("--from", run, "--namespace", "ns", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "not published: base-model/" in out
    assert "not published: tokenizers/cfg-extended/ (in the C model repo)" in out
    assert "codereps-cfg-extended" not in out.replace("tokenizers/cfg-extended", "")


def test_tokenizer_without_card_is_refused(tmp_path, capsys):
    run = make_run_folder(tmp_path)
    (run / "tokenizers" / "cfg-512" / "README.md").unlink()
    assert _publish("--from", run, "--namespace", "ns", "--dry-run") == 1
    assert "tokenizers/cfg-512 has no card (README.md)" in capsys.readouterr().err


def _top_level_imports(path: Path) -> set:
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_published_leaderboard_space_runs_on_its_own(run_folder, tmp_path):
    import os
    import socket
    import sys
    import time
    import urllib.request

    hub = tmp_path / "hub"
    assert _publish("--from", run_folder, "--local-hub", hub, "--namespace", "ns") == 0
    space = hub / "spaces" / "ns" / "codereps-leaderboard"
    # On the Hub the Space has only its requirements.txt: nothing from this project may be imported.
    for module in ("app.py", "leaderboard_data.py"):
        assert not _top_level_imports(space / module) & {"codereps", "eval_space", "model_cards", "trainers"}

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
    env.update(GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    env.pop("CODEREPS_RESULTS", None)
    log = tmp_path / "space.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "app.py"], cwd=space, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                config = urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.3)
    finally:
        process.terminate()
        process.wait(timeout=10)
    # the Space shows the results bundled into it (results/), read by its own copy of the data code
    assert "mrochk/codereps-tiny-phi-B" in config and "Pair classifiers" in config


def test_a_token_in_an_artifact_stops_publishing_without_echoing_it(tmp_path, capsys):
    run = make_run_folder(tmp_path)
    (run / "results" / "leak.json").write_text(json.dumps({"model": "x", "pass@1": 0.1, "note": FAKE_TOKEN}))
    hub = tmp_path / "hub"
    assert _publish("--from", run, "--local-hub", hub, "--namespace", "ns") == 1
    out = capsys.readouterr()
    assert "leak.json contains what looks like a Hugging Face token; refusing to publish it" in out.err
    assert FAKE_TOKEN not in out.out + out.err and not hub.exists()
