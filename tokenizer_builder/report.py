"""`codereps tokenizer report`: tokens per row under the base LM tokenizer and the IR tokenizers.

On the held-out rows (validation + test) of the dataset, for `src`, `ast` and
`cfg`: tokens per row (mean, p50, p95, max) under the base tokenizer, and for
`ast`/`cfg` under every IR tokenizer found, with the compression ratio and the
share of rows that fit each context budget. Writes `compression.json` and three
plots next to it.
"""

import json
import sys
from pathlib import Path

from .data import HELD_OUT_SPLITS, dataset_configs, load_field_texts, require_rows
from .errors import TokenizerBuildError
from .measure import DEFAULT_BUDGETS, compression, length_stats, token_lengths
from .pretokenize import IR_FIELDS
from .train import METADATA_FILE, TokenizerMetadata, check_round_trip

REPORT_FIELDS = ("src", *IR_FIELDS)
REPORT_FILE = "compression.json"


def find_ir_tokenizers(paths: list[Path]) -> dict[tuple[str, int], Path]:
    """(field, vocab size) -> tokenizer folder, from folders or parents of folders with codereps metadata.

    A repo root duplicates its default `vocab-N` subfolder; the subfolder (found first) is kept.
    """
    found: dict[tuple[str, int], Path] = {}
    for path in paths:
        path = Path(path)
        if not path.is_dir():
            raise TokenizerBuildError(f"tokenizer folder {path} does not exist")
        folders = sorted(p.parent for p in path.rglob(METADATA_FILE))
        if not folders:
            raise TokenizerBuildError(f"no codereps tokenizer ({METADATA_FILE}) under {path}")
        for folder in sorted(folders, key=lambda p: (-len(p.parts), str(p))):
            meta = TokenizerMetadata.read(folder)
            found.setdefault((meta.field, meta.vocab_size), folder)
    return dict(sorted(found.items()))


def compression_report(
    dataset: str,
    base_tokenizer: str,
    tokenizer_paths: list[Path],
    configs: list[str] | None = None,
    budgets=DEFAULT_BUDGETS,
    progress: bool = True,
) -> dict:
    from transformers import AutoTokenizer

    from codereps.base_models import base_model_description, load_base_tokenizer

    configs = configs or dataset_configs(dataset)
    ir_tokenizers = find_ir_tokenizers(tokenizer_paths) if tokenizer_paths else {}
    base = load_base_tokenizer(base_tokenizer)
    report = {
        "dataset": dataset,
        "configs": configs,
        "held_out_splits": list(HELD_OUT_SPLITS),
        "base_tokenizer": base_model_description(base_tokenizer),
        "budgets": list(budgets),
        "fields": {},
    }
    for field_name in REPORT_FIELDS:
        held_out = load_field_texts(dataset, configs, field_name, HELD_OUT_SPLITS)
        require_rows(held_out, dataset, "held-out (validation/test)")
        base_lengths = token_lengths(base, held_out.texts)
        entry = {
            "rows": len(held_out.texts),
            "skipped_empty_rows": held_out.skipped_empty,
            "rows_per_split": held_out.rows_per_split,
            "base": length_stats(base_lengths, budgets),
            "ir": {},
        }
        for (ir_field, size), folder in ir_tokenizers.items():
            if ir_field != field_name:
                continue
            tokenizer = AutoTokenizer.from_pretrained(folder)
            ir_lengths = token_lengths(tokenizer, held_out.texts)
            round_trip = check_round_trip(tokenizer, held_out.texts)
            meta = TokenizerMetadata.read(folder)
            entry["ir"][str(size)] = {
                "tokenizer": str(folder),
                "actual_vocab_size": meta.actual_vocab_size,
                "pretokenizer": meta.pretokenizer,
                "round_trip_exact": round_trip.exact,
                "unknown_tokens": round_trip.unknown_tokens,
                **length_stats(ir_lengths, budgets),
                **compression(base_lengths, ir_lengths),
            }
            if progress:
                print(
                    f"codereps tokenizer: {field_name} vocab {size}: {entry['ir'][str(size)]['ratio']:.2f}x",
                    file=sys.stderr,
                )
        report["fields"][field_name] = entry
    return report


def compression_table(report: dict) -> str:
    """The report as a Markdown table (one row per field and tokenizer)."""
    budgets = report["budgets"]
    fits_header = " / ".join(str(b) for b in budgets)
    lines = [
        f"| field | tokenizer | mean | p50 | p95 | max | ratio vs base | rows within {fits_header} | round trip |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def row(field_name, name, stats, ratio, round_trip):
        fits = " / ".join(f"{100 * stats['fits'][str(b)]:.1f}%" for b in budgets)
        return (
            f"| {field_name} | {name} | {stats['mean']:.2f} | {stats['p50']:g} | {stats['p95']:.1f} | "
            f"{stats['max']} | {ratio} | {fits} | {round_trip} |"
        )

    for field_name, entry in report["fields"].items():
        lines.append(row(field_name, "base", entry["base"], "1.00x", "-"))
        for size, ir in entry["ir"].items():
            exact = f"{ir['round_trip_exact']}/{ir['rows']}"
            lines.append(row(field_name, f"IR BPE {size}", ir, f"{ir['ratio']:.2f}x", exact))
    return "\n".join(lines)


def write_report(report: dict, output: Path) -> list[Path]:
    from .plots import plot_report

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    json_path = output / REPORT_FILE
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    table_path = output / "compression.md"
    table_path.write_text(compression_table(report) + "\n")
    return [json_path, table_path, *plot_report(report, output)]
