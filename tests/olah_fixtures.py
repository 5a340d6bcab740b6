"""Serve a local hub folder (see `codereps/hub.py`) with the real `olah` mirror on 127.0.0.1.

    with serve_local_hub(hub_dir) as endpoint:
        run_against_hub(endpoint, "from datasets import load_dataset; ...", tmp_path)

olah serves git repos found under its `mirrors-path` as `<type>s/<org>/<name>`.
Offline, it answers metadata and existing files straight from the git repos,
but it resolves a branch name like `main` (needed e.g. for the 404 of an
optional file that transformers probes) only from its cache:
`<cache>/api/<type>s/<org>/<name>/revision/main/meta_get.json` (+ `.body`) and
`meta_head.json`. `seed_main_revisions` writes those from each repo's current
`main`, in the envelope format olah's own cache writer uses, with the body
made by olah's own `LocalMirrorRepo.get_meta`. Re-seed (or restart) after
publishing new commits while the server runs.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from codereps.hub import REPO_TYPE_DIRS, list_local_repos

STARTUP_TIMEOUT_S = 60


def _write_cache_envelope(path: Path, body: bytes) -> None:
    # Same layout as olah.utils.cache_utils.write_cache_request: JSON status/headers + raw `.body` sidecar.
    path.parent.mkdir(parents=True, exist_ok=True)
    envelope = {"status_code": 200, "headers": {"content-type": "application/json"}, "cached_at": time.time()}
    path.write_text(json.dumps(envelope))
    Path(str(path) + ".body").write_bytes(body)


def seed_main_revisions(hub_dir, cache_dir) -> list:
    """Write olah's offline revision cache for `main` of every repo under `hub_dir`; returns repo ids seeded."""
    from olah.mirror.repos import LocalMirrorRepo

    seeded = []
    for repo_type, repo_id, repo_path in list_local_repos(hub_dir):
        org, name = repo_id.split("/")
        type_dir = REPO_TYPE_DIRS[repo_type]
        meta = LocalMirrorRepo(str(repo_path), type_dir, org, name).get_meta("main")
        body = json.dumps(meta).encode()
        revision_dir = Path(cache_dir) / "api" / type_dir / org / name / "revision" / "main"
        _write_cache_envelope(revision_dir / "meta_get.json", body)
        _write_cache_envelope(revision_dir / "meta_head.json", body)
        seeded.append(f"{type_dir}/{repo_id}")
    return seeded


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_config(path: Path, port: int, cache_dir: Path, hub_dir: Path) -> None:
    # TOML written by hand: three settings, and olah reads `mirrors-path` only from the config file.
    path.write_text(
        textwrap.dedent(
            f"""\
            [basic]
            host = "127.0.0.1"
            port = {port}
            repos-path = {json.dumps(str(cache_dir))}
            mirrors-path = [{json.dumps(str(hub_dir))}]

            [accessibility]
            offline = true
            """
        )
    )


def _wait_until_answering(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"olah exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer (even 404) means the server is up
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(
        f"olah did not answer {url} within {STARTUP_TIMEOUT_S}s:\n{log_path.read_text()[-3000:]}"
    )


@contextlib.contextmanager
def serve_local_hub(hub_dir):
    """Start olah on 127.0.0.1 (offline, `main` seeded) for `hub_dir`; yield its endpoint URL for HF_ENDPOINT."""
    hub_dir = Path(hub_dir).resolve()
    state_dir = Path(tempfile.mkdtemp(prefix="olah-"))
    cache_dir = state_dir / "cache"
    seed_main_revisions(hub_dir, cache_dir)
    port = _free_port()
    config_path = state_dir / "olah.toml"
    _write_config(config_path, port, cache_dir, hub_dir)
    log_path = state_dir / "olah.log"
    endpoint = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        # cwd = state dir: olah writes its ./logs folder there, not into the checkout.
        process = subprocess.Popen(
            [sys.executable, "-m", "olah.server", "--config", str(config_path)],
            cwd=state_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_answering(f"{endpoint}/api/models/none/none/revision/main", process, log_path)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(state_dir, ignore_errors=True)


def hub_client_env(endpoint: str, home) -> dict:
    """Environment for a Hub client process: HF_ENDPOINT set, offline flags unset, a fresh cache in `home`."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_OFFLINE")}
    env.update(
        HF_ENDPOINT=endpoint,
        HF_HOME=str(Path(home) / "hf_home"),
        HF_HUB_DISABLE_TELEMETRY="1",
        TOKENIZERS_PARALLELISM="false",
    )
    for key in (
        "HF_HUB_CACHE",
        "HF_DATASETS_CACHE",
        "HUGGINGFACE_HUB_CACHE",
        "TRANSFORMERS_CACHE",
        "HF_TOKEN",
    ):
        env.pop(key, None)
    return env


def run_against_hub(endpoint: str, code: str, home, timeout: int = 300) -> str:
    """Run Python `code` in a subprocess reading the Hub at `endpoint`; return its stdout, raise with stderr."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=hub_client_env(endpoint, home),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=home,
    )
    if result.returncode != 0:
        raise AssertionError(f"hub client failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result.stdout


@pytest.fixture
def local_hub(tmp_path):
    """An empty hub folder; publish into it, then `serve_local_hub(local_hub)`."""
    hub = tmp_path / "hub"
    hub.mkdir()
    return hub
