"""Merge dataset folders built on several machines into one (multi-machine builds).

    # machine k of M builds a disjoint part of the input into its own folder
    codereps dataset build --source codesearchnet --input part-k/ --output build/part-k --num-proc 16
    # then, on one machine, with the parts copied over:
    codereps dataset merge --output build/ds build/part-0 build/part-1 ...
    codereps dataset pairs --output build/ds --from codesearchnet

Source configs are merged file by file (Parquet files are renamed
`<split>-NNNNN-of-NNNNN` over all parts, in the order the parts are given) and
their reports summed: rows, filter and skip counts, examples. Pair configs are
not merged: pairs are drawn within a whole split, so build them after merging.
"""

import shutil
from collections import Counter
from pathlib import Path

from . import writer
from .build import EXAMPLES_PER_REASON, summary_line


class MergeError(ValueError):
    """The parts cannot be merged (different schemas, missing configs, pair configs)."""


def merge_folders(
    output, parts: list, *, overwrite: bool = False, repo_id: str = "mrochk/codereps", log=print
) -> list:
    output = Path(output)
    part_reports = [writer.load_reports(part) for part in parts]
    configs = sorted({c for reports in part_reports for c, r in reports.items() if r["kind"] == "source"})
    if not configs:
        raise MergeError(f"no source configs in {', '.join(map(str, parts))}")
    for config in configs:
        missing = [str(p) for p, reports in zip(parts, part_reports, strict=True) if config not in reports]
        if missing:
            raise MergeError(f"config {config!r} is missing from {', '.join(missing)}")
        features = {str(reports[config]["features"]) for reports in part_reports}
        if len(features) > 1:
            raise MergeError(f"config {config!r} has different columns in different parts")
    writer.check_can_write(output, configs, overwrite)
    merged = []
    for config in configs:
        reports = [r[config] for r in part_reports]
        staged = writer.staging_dir(output, config)
        try:
            config_stage = staged / "data" / config
            config_stage.mkdir(parents=True)
            report = _summed_report(reports, parts)
            for split in report["splits"]:
                sources = [
                    Path(p) / f
                    for p, r in zip(parts, reports, strict=True)
                    for f in r["splits"].get(split, {}).get("files", [])
                ]
                names = [f"{split}-{i:05d}-of-{len(sources):05d}.parquet" for i in range(len(sources))]
                for source_file, name in zip(sources, names, strict=True):
                    shutil.copyfile(source_file, config_stage / name)
                report["splits"][split]["files"] = [f"data/{config}/{name}" for name in names]
            writer.commit_config(output, config_stage, config, report, repo_id)
        finally:
            writer.remove_staging(output, config)
        log(summary_line(report))
        merged.append(report)
    return merged


def _summed_report(reports: list, parts: list) -> dict:
    report = dict(reports[0])
    splits = {}
    for r in reports:
        for split, info in r["splits"].items():
            total = splits.setdefault(
                split, {"num_examples": 0, "num_bytes": 0, "file_bytes": 0, "files": []}
            )
            for key in ("num_examples", "num_bytes", "file_bytes"):
                total[key] += info[key]
    order = [s for s in reports[0]["splits"]] + [
        s for r in reports for s in r["splits"] if s not in reports[0]["splits"]
    ]
    report["splits"] = {s: splits[s] for s in dict.fromkeys(order)}
    report["empty_splits"] = sorted(set.intersection(*(set(r.get("empty_splits", [])) for r in reports)))
    for key in ("items_read", "rows_written"):
        report[key] = sum(r[key] for r in reports)
    for key in ("removed_by_filter", "skipped", "ir_failures_kept"):
        report[key] = dict(sorted(sum((Counter(r.get(key, {})) for r in reports), Counter()).items()))
    for key in ("skipped_examples", "ir_failure_examples"):
        examples = {}
        for r in reports:
            for reason, items in r.get(key, {}).items():
                examples.setdefault(reason, []).extend(items)
        report[key] = {reason: items[:EXAMPLES_PER_REASON] for reason, items in examples.items()}
    seconds = max(r["seconds"] for r in reports)  # the parts ran side by side
    report["seconds"] = seconds
    report["items_per_s"] = round(report["items_read"] / seconds, 1) if seconds else None
    report["num_proc"] = sum(r["num_proc"] for r in reports)
    report["input"] = "; ".join(r["input"] for r in reports)
    report["command"] = " && ".join(dict.fromkeys(r["command"] for r in reports)) + (
        f" (merged from {len(parts)} parts: {', '.join(Path(p).name for p in parts)})"
    )
    return report
