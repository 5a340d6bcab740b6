"""Seconds and MB/s of `publish_to_local_hub`: first publish, unchanged re-publish, one file changed.

Baseline: the same first publish into a repo using git's default zlib level for
loose objects (`core.looseCompression=1`), which codereps turns off (0) because
weights do not compress.

    .venv/bin/python benchmarks/publish_local_hub.py                 # a 200 MB model-like folder
    .venv/bin/python benchmarks/publish_local_hub.py --mb 50 --files 4

The folder is random bytes (incompressible, like safetensors weights) split over
`--files` files plus a README. Each step publishes into the same fresh local hub;
the later steps are given as a ratio to the first publish (same process, same
data).
"""

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path


def make_parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=float, default=200.0, help="total size of the weight files (default: 200)")
    p.add_argument("--files", type=int, default=2, help="number of weight files (default: 2)")
    p.add_argument("--json", help="also write the figures to this JSON file")
    return p


def make_folder(folder: Path, mb: float, files: int) -> None:
    folder.mkdir(parents=True)
    (folder / "README.md").write_text("---\nlicense: apache-2.0\n---\n")
    per_file = int(mb * 1e6 / files)
    for i in range(files):
        (folder / f"model-{i:05d}-of-{files:05d}.safetensors").write_bytes(os.urandom(per_file))


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main(args) -> dict:
    from codereps.hub import publish_to_local_hub

    with tempfile.TemporaryDirectory() as tmp:
        folder, hub = Path(tmp) / "model", Path(tmp) / "hub"
        make_folder(folder, args.mb, args.files)

        def publish(overwrite=False):
            return publish_to_local_hub(folder, hub, "model", "bench/model", overwrite=overwrite)

        # Baseline: a repo made beforehand with git's default compression; publish reuses it.
        zlib_repo = hub / "models" / "zlib" / "model"
        zlib_repo.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", "-b", "main", str(zlib_repo)], check=True)
        subprocess.run(["git", "-C", str(zlib_repo), "config", "core.looseCompression", "1"], check=True)
        zlib_s, _ = timed(lambda: publish_to_local_hub(folder, hub, "model", "zlib/model"))

        first_s, first_sha = timed(publish)
        same_s, same_sha = timed(publish)
        (folder / "README.md").write_text("---\nlicense: mit\n---\n")
        changed_s, changed_sha = timed(lambda: publish(overwrite=True))

    assert first_sha and same_sha is None and changed_sha not in (None, first_sha)
    figures = {
        "mb": args.mb,
        "files": args.files,
        "zlib_first_publish_s": zlib_s,
        "speedup_vs_zlib": zlib_s / first_s,
        "first_publish_s": first_s,
        "first_publish_mb_per_s": args.mb / first_s,
        "unchanged_republish_s": same_s,
        "readme_changed_publish_s": changed_s,
        "unchanged_vs_first": same_s / first_s,
        "readme_changed_vs_first": changed_s / first_s,
    }
    print(
        f"zlib first publish   {zlib_s:7.2f} s  {args.mb / zlib_s:7.1f} MB/s  (baseline: git's default compression)"
    )
    print(
        f"first publish        {first_s:7.2f} s  {args.mb / first_s:7.1f} MB/s  {zlib_s / first_s:.2f}x faster"
    )
    print(f"unchanged re-publish {same_s:7.2f} s  {same_s / first_s:7.3f}x of first publish  (no commit)")
    print(
        f"README changed       {changed_s:7.2f} s  {changed_s / first_s:7.3f}x of first publish  (one new commit)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main(make_parser().parse_args())
