"""The report of a source config (`reports/<config>.json`): one definition for every builder.

Both the datatrove pipeline (`pipeline.py`, counts merged from every task's
stats) and the in-process builder (`build.py`) hand their counts to
`source_report`, so the report, the card and the summary line read the same
keys whatever ran the build.
"""

from datetime import datetime, timezone

from .filters import FILTER_REASON_PREFIX, filter_rule_descriptions
from .rows import row_features

# Examples of skipped rows kept per reason in the report and the card.
EXAMPLES_PER_REASON = 5


class EmptyBuildError(RuntimeError):
    """Nothing usable was read (wrong input, unreachable Hub): the folder is left as it was."""


def split_reason_counts(reasons: dict) -> tuple:
    """`{reason: n}` over every dropped item -> `(removed_by_filter, skipped)`, filter rules unprefixed."""
    removed, skipped = {}, {}
    for reason, n in sorted(reasons.items()):
        if reason.startswith(FILTER_REASON_PREFIX):
            removed[reason[len(FILTER_REASON_PREFIX) :]] = n
        else:
            skipped[reason] = n
    return removed, skipped


def source_report(
    source,
    *,
    filter_name: str,
    splits: dict,
    empty_splits: list,
    items_read: int,
    dropped: dict,
    examples: dict,
    ir_failures_kept: dict,
    ir_failure_examples: dict,
    seconds: float,
    command: str,
    execution: dict,
) -> dict:
    """The report dict; `dropped` counts every item not written by reason (filter rules prefixed)."""
    removed_by_filter, skipped = split_reason_counts(dropped)
    report = {
        "config": source.config,
        "kind": "source",
        "source": source.name,
        "input": source.input_description(),
        "description": source.description,
        "license": source.license,
        "license_note": source.license_note,
        "homepage": source.homepage,
        "citation": source.citation,
        "filter": filter_name,
        "filter_rules": filter_rule_descriptions(filter_name),
        "features": row_features(source).to_dict(),
        "splits": splits,
        "empty_splits": empty_splits,
        "items_read": items_read,
        "rows_written": sum(s["num_examples"] for s in splits.values()),
        "removed_by_filter": removed_by_filter,
        "skipped": skipped,
        "skipped_examples": {reason: examples.get(reason, [])[:EXAMPLES_PER_REASON] for reason in skipped},
        "ir_failures_kept": dict(sorted(ir_failures_kept.items())),
        "ir_failure_examples": {r: e[:EXAMPLES_PER_REASON] for r, e in ir_failure_examples.items()},
        **execution,
        "seconds": round(seconds, 3),
        "items_per_s": round(items_read / seconds, 1) if seconds > 0 else None,
        "command": command,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if report["rows_written"] == 0:
        raise EmptyBuildError(f"codereps dataset: {source.config}: no rows to write; {summary_line(report)}")
    return report


def summary_line(report: dict) -> str:
    sizes = ", ".join(f"{split} {info['num_examples']:,}" for split, info in report["splits"].items())
    parts = [f"codereps dataset: {report['config']}: {report['rows_written']:,} rows ({sizes})"]
    if report.get("items_per_s"):
        parts.append(
            f"{report['items_read']:,} items in {report['seconds']:.1f} s = {report['items_per_s']:,.0f} rows/s"
        )
    if report.get("removed_by_filter"):
        parts.append(f"removed by filter {report['filter']}: {report['removed_by_filter']}")
    if report.get("skipped"):
        parts.append(f"skipped: {report['skipped']}")
    if report.get("ir_failures_kept"):
        parts.append(f"kept without IR: {report['ir_failures_kept']}")
    return "; ".join(parts)
