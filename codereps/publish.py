"""`codereps publish`: every artifact of an experiment run as a Hub repo.

    codereps publish --from build/experiments/smoke --local-hub build/hub --namespace mrochk
    codereps publish --from build/experiments/smoke --dry-run
    HF_TOKEN=... codereps publish --from build/experiments/smoke --namespace me

Reads the run folder `codereps experiment` writes:

    <run>/dataset/                          -> dataset  <ns>/codereps
    <run>/tokenizers/<name>/                -> model    <ns>/codereps-<field>-tokenizer
    <run>/models/<name>/{merged,adapter}/   -> model    <ns>/codereps-<name> (merged at the root, adapter/ beside)
    <run>/results/*.json, <run>/tokenizer_report/
                                            -> dataset  <ns>/codereps-results
    eval_space/pass_at_k/                   -> space    <ns>/pass_at_k
    eval_space/leaderboard/ (+ the results) -> space    <ns>/codereps-leaderboard

With `--local-hub DIR` each repo is a git repo under `DIR/{datasets,models,spaces}/<ns>/<name>`
(serve it with olah, see tests/olah_fixtures.py); otherwise `HfApi.create_repo` +
`upload_folder` with the token from HF_TOKEN or `hf auth login`. Unchanged content
makes no commit; changing or removing published files needs `--overwrite`.
"""

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from codereps.hub import HubPublishError, RepoConflictError, folder_files, publish_to_local_hub
from codereps.paths import DEFAULT_NAMESPACE, REPO_ROOT

DATASET_NAME = "codereps"
METRIC_SPACE_DIR = REPO_ROOT / "eval_space" / "pass_at_k"
LEADERBOARD_SPACE_DIR = REPO_ROOT / "eval_space" / "leaderboard"
# The Space runs without the codereps package: only these files of eval_space/leaderboard/ go up.
LEADERBOARD_SPACE_FILES = ("app.py", "leaderboard_data.py", "requirements.txt")
# ... and the paired bootstrap it reuses for intervals and comparisons, copied beside them.
PAIRED_MODULE = REPO_ROOT / "eval_space" / "paired.py"
STAGING_PREFIX = ".codereps-publish-"  # temporary folder inside the run while publishing
EXTENDED_SUFFIX = "-extended"  # tokenizers/<ir>-extended: variant C's vocabulary, part of the C model
# Top-level entries of a run folder that become repos; anything else is listed as not published.
RUN_ENTRIES = {"dataset", "tokenizers", "models", "results", "tokenizer_report", "comparisons.json"}
# A token-like string must never reach a card or a log (`hf_` + 30+ characters).
_TOKEN_PATTERN = re.compile(r"hf_[A-Za-z0-9]{30,}")


@dataclass
class Artifact:
    kind: str  # what it is, for the listing: dataset, tokenizer, model, results, metric space, leaderboard space
    repo_type: str  # dataset | model | space
    repo_id: str
    folder: Path  # what gets published (a staged copy for assembled repos)
    source: Path  # where it came from, for the listing
    evaluated: bool = False  # a model with a results JSON: its card must carry model-index
    error: str | None = None  # why it cannot be published (reported, counted as failed)


def tokenizer_repo_name(folder_name: str) -> str:
    """`codereps-cfg-tokenizer` stays; `cfg-512` (field-vocab) and `cfg` become `codereps-cfg-tokenizer`."""
    if folder_name.startswith("codereps-"):
        return folder_name
    field_name = re.sub(r"-\d+$", "", folder_name)
    return f"codereps-{field_name}-tokenizer"


def model_repo_name(folder_name: str) -> str:
    return folder_name if folder_name.startswith("codereps-") else f"codereps-{folder_name}"


def default_run_dir() -> Path | None:
    """The most recently written run under build/ (a folder holding results/ or models/)."""
    build = REPO_ROOT / "build"
    candidates = [
        p
        for p in [*build.glob("*/"), *build.glob("*/*/")]
        if (p / "results").is_dir() or (p / "models").is_dir()
    ]

    def last_written(run: Path) -> float:
        # A folder's mtime changes only when entries come or go: look at the run's outputs too.
        return max(p.stat().st_mtime for p in [run, *run.glob("models/*"), *run.glob("results/*")])

    return max(candidates, key=last_written, default=None)


def _link_or_copy(source: Path, target: Path) -> None:
    # A hard link stages a multi-GB model instantly and without a second copy on disk.
    try:
        os.link(source, target)
    except OSError:  # another filesystem, or links not allowed
        shutil.copyfile(source, target)


def _copy_files(source: Path, target: Path, names=None) -> None:
    for rel in names or folder_files(source):
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(source / rel, target / rel)


def _read_results(results_dir: Path) -> list:
    results = []
    for path in sorted(results_dir.glob("*.json")):
        try:
            results.append(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as e:
            raise HubPublishError(f"results file {path} is not valid JSON: {e}") from e
    return results


def _stage_model(model_dir: Path, staging: Path) -> Path:
    """Merged model at the repo root (loads with from_pretrained), the LoRA adapter in `adapter/`.

    checkpoint-*/ folders (for resuming) are not published.
    """
    merged, adapter = model_dir / "merged", model_dir / "adapter"
    if not merged.is_dir() and not adapter.is_dir():
        raise HubPublishError(f"model folder {model_dir} has neither merged/ nor adapter/")
    target = staging / "models" / model_dir.name
    target.mkdir(parents=True)
    if merged.is_dir():
        _copy_files(merged, target)
        if adapter.is_dir():
            _copy_files(adapter, target / "adapter")
    else:
        _copy_files(adapter, target)
    # The run keeps the card, loss plot and training log beside merged/: they belong at the repo root too.
    for path in sorted(p for p in model_dir.iterdir() if p.is_file()):
        if not (target / path.name).exists():
            _link_or_copy(path, target / path.name)
    if not (target / "README.md").exists():
        raise HubPublishError(
            f"model {model_dir.name} has no model card (README.md in {model_dir} or merged/)"
        )
    return target


def _stage_results(run_dir: Path, namespace: str, staging: Path) -> Path:
    target = staging / "results"
    target.mkdir(parents=True)
    results_dir, report_dir = run_dir / "results", run_dir / "tokenizer_report"
    results = _read_results(results_dir)
    _copy_files(results_dir, target)
    if report_dir.is_dir():
        _copy_files(report_dir, target / "tokenizer_report")
    comparisons = run_dir / "comparisons.json"  # each variant against A: the leaderboard shows them
    if comparisons.is_file():
        _link_or_copy(comparisons, target / comparisons.name)
    from model_cards.space_cards import results_dataset_card

    extra = [f"tokenizer_report/{rel}" for rel in folder_files(report_dir)] if report_dir.is_dir() else []
    results_dataset_card(namespace, results, extra).save(target / "README.md")
    return target


def _stage_leaderboard(results_stage: Path | None, models: list, namespace: str, staging: Path) -> Path:
    from model_cards.space_cards import leaderboard_space_card

    target = staging / "leaderboard"
    target.mkdir(parents=True)
    _copy_files(LEADERBOARD_SPACE_DIR, target, LEADERBOARD_SPACE_FILES)
    _link_or_copy(PAIRED_MODULE, target / PAIRED_MODULE.name)
    if results_stage is not None:  # bundled, so the Space shows these results even before the dataset syncs
        _copy_files(
            results_stage, target / "results", [f for f in folder_files(results_stage) if f != "README.md"]
        )
    datasets = [f"{namespace}/{DATASET_NAME}"]
    leaderboard_space_card(namespace, models=models, datasets=datasets).save(target / "README.md")
    return target


def collect_artifacts(run_dir: Path, namespace: str, staging: Path) -> list:
    """Every repo to publish from `run_dir`, assembled under `staging` where a repo needs more than one folder."""
    artifacts = []
    dataset_dir = run_dir / "dataset"
    if dataset_dir.is_dir():
        artifacts.append(
            Artifact("dataset", "dataset", f"{namespace}/{DATASET_NAME}", dataset_dir, dataset_dir)
        )
    for folder in sorted(p for p in (run_dir / "tokenizers").glob("*") if p.is_dir()):
        if folder.name.endswith(EXTENDED_SUFFIX):
            continue  # variant C's base+IR vocabulary: it ships inside the C model repo
        if not (folder / "README.md").exists():
            raise HubPublishError(f"tokenizer folder {folder} has no card (README.md)")
        repo_id = f"{namespace}/{tokenizer_repo_name(folder.name)}"
        if any(a.repo_id == repo_id for a in artifacts):
            raise HubPublishError(
                f"two tokenizer folders map to {repo_id}: rename one of them in {folder.parent}"
            )
        artifacts.append(Artifact("tokenizer", "model", repo_id, folder, folder))
    model_ids = []
    for model_dir in sorted(p for p in (run_dir / "models").glob("*") if p.is_dir()):
        repo_id = f"{namespace}/{model_repo_name(model_dir.name)}"
        evaluated = (run_dir / "results" / f"{model_dir.name}.json").is_file()
        try:
            staged = _stage_model(model_dir, staging)
        except HubPublishError as e:  # e.g. still training: the other repos go on, this one is reported
            artifacts.append(
                Artifact("model", "model", repo_id, model_dir, model_dir, evaluated, error=str(e))
            )
            continue
        artifacts.append(Artifact("model", "model", repo_id, staged, model_dir, evaluated))
        model_ids.append(repo_id)
    results_stage = None
    if (run_dir / "results").is_dir():
        results_stage = _stage_results(run_dir, namespace, staging)
        artifacts.append(
            Artifact(
                "results", "dataset", f"{namespace}/codereps-results", results_stage, run_dir / "results"
            )
        )
    if METRIC_SPACE_DIR.is_dir():
        artifacts.append(
            Artifact("metric space", "space", f"{namespace}/pass_at_k", METRIC_SPACE_DIR, METRIC_SPACE_DIR)
        )
    leaderboard = _stage_leaderboard(results_stage, model_ids, namespace, staging)
    artifacts.append(
        Artifact(
            "leaderboard space",
            "space",
            f"{namespace}/codereps-leaderboard",
            leaderboard,
            LEADERBOARD_SPACE_DIR,
        )
    )
    for artifact in artifacts:
        if not artifact.error:
            _check_no_token(artifact)
    return artifacts


def unpublished_entries(run_dir: Path) -> list:
    """What the run folder holds that no repo takes (e.g. the smoke run's base-model/, variant C's vocabulary)."""
    entries = [
        p.name + ("/" if p.is_dir() else "")
        for p in sorted(run_dir.iterdir())
        if p.name not in RUN_ENTRIES and not p.name.startswith(STAGING_PREFIX)
    ]
    entries += [
        f"tokenizers/{p.name}/ (in the C model repo)"
        for p in sorted(run_dir.glob(f"tokenizers/*{EXTENDED_SUFFIX}"))
    ]
    return entries


def check_cards(artifacts: list) -> dict:
    """Print what each card lacks (the Hub still accepts it); {repo_id: "error: ..."} for cards it would not."""
    from codereps.card_check import CardError, card_problems

    errors = {}
    for artifact in artifacts:
        if artifact.error:
            errors[artifact.repo_id] = f"error: {artifact.error}"
            continue
        try:
            problems = card_problems(
                artifact.folder,
                artifact.repo_type,
                evaluated=artifact.evaluated,
                needs_configs=artifact.kind == "dataset",
            )
        except CardError as e:
            errors[artifact.repo_id] = f"error: {e}"
            print(f"  card: {artifact.repo_id}: {e}")
            continue
        for problem in problems:
            print(f"  card: {artifact.repo_id}: {problem}")
    return errors


def _check_no_token(artifact: Artifact) -> None:
    for rel in folder_files(artifact.folder):
        path = artifact.folder / rel
        if path.suffix in {".md", ".json", ".txt", ".yaml", ".yml", ".py"} and _TOKEN_PATTERN.search(
            path.read_text(errors="replace")
        ):
            raise HubPublishError(
                f"{path} contains what looks like a Hugging Face token; refusing to publish it"
            )


def _git_blob_sha1(path: Path) -> str:
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def compare_with_remote(api, artifact: Artifact):
    """(new, changed, removed) file lists of `artifact.folder` against the repo's `main` on the Hub."""
    remote = {}
    for entry in api.list_repo_tree(artifact.repo_id, repo_type=artifact.repo_type, recursive=True):
        if getattr(entry, "blob_id", None) is not None and entry.path != ".gitattributes":
            remote[entry.path] = entry
    local = folder_files(artifact.folder)
    new, changed = [], []
    for rel in local:
        entry = remote.get(rel)
        if entry is None:
            new.append(rel)
            continue
        path = artifact.folder / rel
        lfs = getattr(entry, "lfs", None)
        same = _sha256(path) == lfs.sha256 if lfs else _git_blob_sha1(path) == entry.blob_id
        if not same:
            changed.append(rel)
    removed = sorted(set(remote) - set(local))
    return new, changed, removed


def publish_to_hf(api, artifact: Artifact, overwrite: bool = False):
    """Create the repo if needed and upload the folder; returns the commit id, or None when unchanged."""
    existed = api.repo_exists(artifact.repo_id, repo_type=artifact.repo_type)
    if not existed:
        api.create_repo(
            artifact.repo_id,
            repo_type=artifact.repo_type,
            exist_ok=True,
            space_sdk="gradio" if artifact.repo_type == "space" else None,
        )
        delete_patterns = None
    else:
        new, changed, removed = compare_with_remote(api, artifact)
        if not (new or changed or removed):
            return None
        if (changed or removed) and not overwrite:
            raise RepoConflictError(
                repo_id=artifact.repo_id,
                repo_path=f"the Hub ({artifact.repo_type})",
                changed=changed,
                removed=removed,
            )
        delete_patterns = removed or None  # only with --overwrite: files the new folder no longer has
    info = api.upload_folder(
        folder_path=str(artifact.folder),
        repo_id=artifact.repo_id,
        repo_type=artifact.repo_type,
        commit_message=f"Publish {artifact.repo_id} with codereps",
        delete_patterns=delete_patterns,
        ignore_patterns=["**/__pycache__/**", "**/.cache/**", ".git/**"],
    )
    return info.oid


def make_hf_api():
    """An `HfApi` with the token from HF_TOKEN or `hf auth login`; the token is never printed."""
    from huggingface_hub import HfApi, get_token

    token = get_token()
    if not token:
        raise HubPublishError(
            "no Hugging Face token: set HF_TOKEN or run `hf auth login` (or use --local-hub DIR)"
        )
    return HfApi(token=token)


def _describe(artifact: Artifact) -> str:
    if artifact.error:
        return f"{artifact.kind:<18} {artifact.repo_type:<8} {artifact.repo_id:<45} <- NOT PUBLISHABLE: {artifact.error}"
    files = folder_files(artifact.folder)
    size_mb = sum((artifact.folder / f).stat().st_size for f in files) / 1e6
    return f"{artifact.kind:<18} {artifact.repo_type:<8} {artifact.repo_id:<45} <- {artifact.source} ({len(files)} files, {size_mb:.1f} MB)"


def publish_run(
    run_dir, namespace=DEFAULT_NAMESPACE, local_hub=None, dry_run=False, overwrite=False, api=None
):
    """Publish every artifact of `run_dir`; returns {repo_id: "created <sha>" | "unchanged" | "error: ..."}."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise HubPublishError(f"run folder {run_dir} does not exist")
    outcome = {}
    # Staged inside the run folder so that model files can be hard links, not copies (if it is writable).
    staging_parent = run_dir if os.access(run_dir, os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix=STAGING_PREFIX, dir=staging_parent) as staging:
        artifacts = collect_artifacts(run_dir, namespace, Path(staging))
        target = f"local hub {local_hub}" if local_hub else "huggingface.co"
        print(f"publish: {len(artifacts)} repos from {run_dir} to {target}{' (dry run)' if dry_run else ''}")
        for artifact in artifacts:
            print(f"  {_describe(artifact)}")
        for entry in unpublished_entries(run_dir):
            print(f"  not published: {entry}")
        card_errors = check_cards(artifacts)
        outcome.update(card_errors)
        if dry_run:
            return {a.repo_id: card_errors.get(a.repo_id, "dry run") for a in artifacts}
        if local_hub is None and api is None:
            api = make_hf_api()
        for artifact in artifacts:
            if artifact.repo_id in card_errors:
                continue
            try:
                if local_hub is not None:
                    sha = publish_to_local_hub(
                        artifact.folder, local_hub, artifact.repo_type, artifact.repo_id, overwrite=overwrite
                    )
                else:
                    sha = publish_to_hf(api, artifact, overwrite=overwrite)
                outcome[artifact.repo_id] = "unchanged" if sha is None else f"committed {sha}"
            except HubPublishError as e:  # one repo's conflict must not stop the others
                outcome[artifact.repo_id] = f"error: {e}"
            print(f"  {artifact.repo_id}: {outcome[artifact.repo_id]}")
    return outcome


def add_parser(subparsers):
    import argparse

    parser = subparsers.add_parser(
        "publish",
        help="publish a run's dataset, tokenizers, models, results and Spaces",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--from",
        dest="run_dir",
        default=None,
        help="run folder of `codereps experiment` (default: newest under build/)",
    )
    parser.add_argument(
        "--namespace", default=DEFAULT_NAMESPACE, help=f"Hub user or org (default: {DEFAULT_NAMESPACE})"
    )
    parser.add_argument(
        "--local-hub", default=None, help="write git repos under this folder instead of uploading"
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would go where; write nothing")
    parser.add_argument("--overwrite", action="store_true", help="allow changing or removing published files")
    parser.set_defaults(func=main)
    return parser


def main(args) -> int:
    run_dir = Path(args.run_dir) if args.run_dir else default_run_dir()
    if run_dir is None:
        print("publish: no run folder given and none under build/; pass --from DIR", file=sys.stderr)
        return 2
    if not args.run_dir:
        print(f"publish: no --from: using the most recently written run, {run_dir}")
    if not run_dir.is_dir():
        print(
            f"publish: run folder {run_dir} does not exist: pass --from the folder `codereps experiment` "
            f"wrote (default build/experiments/<preset>)",
            file=sys.stderr,
        )
        return 2
    try:
        outcome = publish_run(run_dir, args.namespace, args.local_hub, args.dry_run, args.overwrite)
    except HubPublishError as e:
        print(f"publish: {e}", file=sys.stderr)
        return 1
    errors = [repo for repo, status in outcome.items() if status.startswith("error")]
    committed = sum(status.startswith("committed") for status in outcome.values())
    unchanged = sum(status == "unchanged" for status in outcome.values())
    if args.dry_run:
        print(f"publish: dry run, {len(outcome) - len(errors)} repos ready, {len(errors)} with errors")
    else:
        print(f"publish: {committed} committed, {unchanged} unchanged, {len(errors)} failed")
    return 1 if errors else 0
