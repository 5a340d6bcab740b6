"""A local Hub: one git repo per Hub repo, laid out the way `olah` serves mirrors.

`publish_to_local_hub(folder, hub_dir, "dataset", "mrochk/codereps")` makes
`<hub_dir>/datasets/mrochk/codereps` a git repo whose branch `main` holds
exactly the files of `folder`. With `HF_ENDPOINT` pointing at olah serving
`hub_dir` (see `tests/olah_fixtures.py`), `load_dataset("mrochk/codereps")`
then reads it like the real Hub.

Publishing is idempotent (unchanged content makes no commit and returns None)
and careful: adding files to an existing repo is fine, but changing or
removing files already published needs `overwrite=True`, so one experiment
never silently replaces another's artifacts.
"""

import filecmp
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

# Hub repo type (as `HfApi` spells it) -> folder under the hub (as olah and the Hub URLs spell it).
REPO_TYPE_DIRS = {"model": "models", "dataset": "datasets", "space": "spaces"}

# Never published: VCS data, caches that `huggingface_hub` and Python leave in a folder.
SKIPPED_NAMES = {".git", "__pycache__", ".cache", ".ipynb_checkpoints"}

# Fixed identity so publishing works on a machine with no git config (CI) and commits say who made them.
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "codereps",
    "GIT_AUTHOR_EMAIL": "codereps@localhost",
    "GIT_COMMITTER_NAME": "codereps",
    "GIT_COMMITTER_EMAIL": "codereps@localhost",
}


class HubPublishError(Exception):
    """A repo could not be published; the message names the repo and the reason."""


@dataclass
class RepoConflictError(HubPublishError):
    """The repo already holds different versions of some files (or files the new folder lacks)."""

    repo_id: str
    repo_path: Path
    changed: list = field(default_factory=list)
    removed: list = field(default_factory=list)

    def __str__(self):
        parts = []
        if self.changed:
            parts.append(f"would change {len(self.changed)} file(s): {', '.join(self.changed[:5])}")
        if self.removed:
            parts.append(f"would remove {len(self.removed)} file(s): {', '.join(self.removed[:5])}")
        return (
            f"{self.repo_id} at {self.repo_path} already holds other content ({'; '.join(parts)}); "
            "publish with overwrite=True (--overwrite) to replace it"
        )


def normalize_repo_type(repo_type: str) -> str:
    """Accept `dataset` or `datasets` (etc.); return the singular `HfApi` spelling."""
    singular = repo_type[:-1] if repo_type.endswith("s") else repo_type
    if singular not in REPO_TYPE_DIRS:
        raise HubPublishError(f"unknown repo type {repo_type!r}; expected one of {sorted(REPO_TYPE_DIRS)}")
    return singular


def split_repo_id(repo_id: str) -> tuple:
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts) or any(p in {".", ".."} for p in parts):
        raise HubPublishError(f"repo id {repo_id!r} must be '<namespace>/<name>'")
    return parts[0], parts[1]


def local_repo_path(hub_dir, repo_type: str, repo_id: str) -> Path:
    namespace, name = split_repo_id(repo_id)
    return Path(hub_dir) / REPO_TYPE_DIRS[normalize_repo_type(repo_type)] / namespace / name


def folder_files(folder) -> list:
    """Relative POSIX paths of every file to publish from `folder`, sorted."""
    folder = Path(folder)
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_NAMES)
        for name in names:
            if name in SKIPPED_NAMES:
                continue
            files.append((Path(root) / name).relative_to(folder).as_posix())
    return sorted(files)


def _git(repo_path: Path, *args: str) -> str:
    env = {**os.environ, **_GIT_IDENTITY}
    result = subprocess.run(
        ["git", "-C", str(repo_path), *args], capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        raise HubPublishError(f"git {' '.join(args)} failed in {repo_path}: {result.stderr.strip()}")
    return result.stdout


def _init_repo(repo_path: Path) -> None:
    repo_path.mkdir(parents=True, exist_ok=True)
    _git(repo_path, "init", "-q", "-b", "main")
    # Weights are incompressible: zlib on every object only costs time (see benchmarks/publish_local_hub.py).
    _git(repo_path, "config", "core.looseCompression", "0")


def _tracked_files(repo_path: Path) -> list:
    return sorted(line for line in _git(repo_path, "ls-files", "-z").split("\0") if line)


def head_commit(repo_path) -> str | None:
    """The commit `main` points at, or None for a repo with no commit yet."""
    result = subprocess.run(
        ["git", "-C", str(repo_path), "rev-parse", "--verify", "-q", "refs/heads/main"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or None


def publish_to_local_hub(folder, hub_dir, repo_type: str, repo_id: str, overwrite: bool = False):
    """Commit the files of `folder` to `<hub_dir>/<type>s/<ns>/<name>` on branch `main`.

    Returns the new commit sha, or None when the repo already holds exactly this
    content. Raises `RepoConflictError` (before touching anything) when the repo
    holds different versions of some files or files `folder` lacks, unless
    `overwrite` is set.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise HubPublishError(f"cannot publish {repo_id}: {folder} is not a folder")
    new_files = folder_files(folder)
    if not new_files:
        raise HubPublishError(f"cannot publish {repo_id}: {folder} holds no files")

    repo_path = local_repo_path(hub_dir, repo_type, repo_id)
    if repo_path.exists() and not (repo_path / ".git").exists():
        raise HubPublishError(
            f"{repo_path} exists but is not a git repo; refusing to publish {repo_id} there"
        )
    if not repo_path.exists():
        _init_repo(repo_path)

    # `main` is checked out in the repo's work tree; compare against what it tracks.
    old_files = _tracked_files(repo_path)
    new_set = set(new_files)
    removed = [f for f in old_files if f not in new_set]
    changed = [
        f for f in old_files if f in new_set and not filecmp.cmp(folder / f, repo_path / f, shallow=False)
    ]
    if (removed or changed) and not overwrite:
        raise RepoConflictError(repo_id=repo_id, repo_path=repo_path, changed=changed, removed=removed)

    for rel in removed:
        (repo_path / rel).unlink()
    for rel in new_files:
        target = repo_path / rel
        if rel in changed or not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / rel, target)

    _git(repo_path, "add", "-A")
    staged = subprocess.run(["git", "-C", str(repo_path), "diff", "--cached", "--quiet"], check=False)
    if staged.returncode == 0 and head_commit(repo_path) is not None:
        return None
    _git(repo_path, "commit", "-q", "-m", f"Publish {repo_id} from {folder.name}")
    return head_commit(repo_path)


def list_local_repos(hub_dir) -> list:
    """`(repo_type, repo_id, path)` of every repo with a `main` commit under `hub_dir`."""
    repos = []
    for repo_type, type_dir in sorted(REPO_TYPE_DIRS.items()):
        for repo_path in sorted(Path(hub_dir, type_dir).glob("*/*")):
            if (repo_path / ".git").exists() and head_commit(repo_path):
                repos.append((repo_type, f"{repo_path.parent.name}/{repo_path.name}", repo_path))
    return repos
