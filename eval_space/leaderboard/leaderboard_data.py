"""Read a results folder (or a Hub results dataset) into the leaderboard's tables.

Layout read (what `codereps experiment` writes to `<run>/results/` and
`codereps publish` uploads as `<ns>/codereps-results`):

- `*.json` with `pass@1`: one fine-tuned LM's results (`model`, `base_model`,
  `variant`, `ir`, `task`, `pass@1`, `pass@10`, ...);
- `*.json` with `accuracy` and no `pass@1`: a pair classifier's results;
- `tokenizer_report/*.json` and `*.png`: the IR tokenizers' compression report
  (inside the results folder, or beside it as in a run folder `<run>/results`,
  `<run>/tokenizer_report`).

This module needs only pandas and huggingface_hub so the Space runs without
the codereps package. A file that cannot be read is reported in `problems`
(path and reason), never dropped silently.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

LM_COLUMNS = [
    "model",
    "base_model",
    "variant",
    "ir",
    "task",
    "pass@1",
    "pass@10",
    "n_samples",
    "temperature",
    "ir_tokens_per_prompt",
    "train_tokens_per_s",
]
SORTABLE_COLUMNS = ["pass@1", "pass@10", "ir_tokens_per_prompt", "train_tokens_per_s", "model"]
TOKENIZER_REPORT_DIR = "tokenizer_report"


@dataclass
class LeaderboardData:
    source: str
    lm_rows: list = field(default_factory=list)
    classifier_rows: list = field(default_factory=list)
    tokenizer_tables: dict = field(default_factory=dict)  # report file name -> list of flat rows
    tokenizer_images: list = field(default_factory=list)  # paths of report PNGs
    problems: list = field(default_factory=list)  # "path: reason"


def resolve_results_source(source: str) -> Path:
    """A local folder (a run folder means its results/); otherwise a Hub dataset repo id, downloaded."""
    path = Path(source)
    if path.exists():
        if not path.is_dir():
            raise NotADirectoryError(
                f"results source {source} is a file, expected a folder or a dataset repo id"
            )
        if (path / "results").is_dir() and not any(path.glob("*.json")):
            return path / "results"  # a run folder: its results/ (and tokenizer_report/ beside it)
        return path
    if source.count("/") != 1:
        raise FileNotFoundError(
            f"results source {source!r} is neither a folder nor a '<namespace>/<name>' repo id"
        )
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(source, repo_type="dataset"))


def _scalar(value):
    return value if value is None or isinstance(value, (str, int, float, bool)) else json.dumps(value)


def _compression_rows(report: dict) -> list:
    """`codereps tokenizer report`'s compression.json: one row per IR field and tokenizer (base, IR BPE <size>)."""
    rows = []
    for field_name, entry in report["fields"].items():
        tokenizers = [("base", entry["base"])] + [
            (f"IR BPE {size}", s) for size, s in entry.get("ir", {}).items()
        ]
        for name, stats in tokenizers:
            row = {"field": field_name, "tokenizer": name}
            row.update({key: stats.get(key) for key in ("mean", "p50", "p95", "max")})
            row["ratio vs base"] = stats.get("ratio", 1.0 if name == "base" else None)
            row.update({f"fits {budget}": share for budget, share in stats.get("fits", {}).items()})
            rows.append(row)
    return rows


def _flat_rows(payload) -> list | None:
    """Rows of a report JSON: a compression report, a list of dicts, a dict of dicts (key -> row), or `rows`."""
    if isinstance(payload, dict) and isinstance(payload.get("fields"), dict):
        if all(isinstance(e, dict) and "base" in e for e in payload["fields"].values()):
            return _compression_rows(payload)
    if isinstance(payload, dict) and isinstance(payload.get("rows"), list):
        payload = payload["rows"]
    if isinstance(payload, list) and payload and all(isinstance(r, dict) for r in payload):
        return [{k: _scalar(v) for k, v in r.items()} for r in payload]
    if isinstance(payload, dict) and payload and all(isinstance(v, dict) for v in payload.values()):
        return [{"name": k, **{kk: _scalar(vv) for kk, vv in v.items()}} for k, v in payload.items()]
    if isinstance(payload, dict) and payload:
        return [{k: _scalar(v) for k, v in payload.items()}]
    return None


def _read_json(path: Path, rel: Path, problems: list):
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        problems.append(f"{rel}: unreadable JSON ({e})")
        return None


def load_leaderboard_data(source: str) -> LeaderboardData:
    root = resolve_results_source(str(source))
    data = LeaderboardData(source=str(source))
    report_dir = root / TOKENIZER_REPORT_DIR
    if not report_dir.is_dir() and (root.parent / TOKENIZER_REPORT_DIR).is_dir():
        report_dir = root.parent / TOKENIZER_REPORT_DIR
    paths = sorted(root.rglob("*.json"))
    if not report_dir.is_relative_to(root):
        paths += sorted(report_dir.rglob("*.json"))
    for path in paths:
        rel = path.relative_to(root if path.is_relative_to(root) else root.parent)
        if any(part.startswith(".") for part in rel.parts):
            continue  # e.g. .cache/huggingface left by downloads
        payload = _read_json(path, rel, data.problems)
        if payload is None:
            continue
        if report_dir in path.parents:
            rows = _flat_rows(payload)
            if rows is None:
                data.problems.append(f"{rel}: not a table (expected rows of fields)")
            else:
                data.tokenizer_tables[str(path.relative_to(report_dir))] = rows
        elif isinstance(payload, dict) and "pass@1" in payload:
            data.lm_rows.append({col: _scalar(payload.get(col)) for col in LM_COLUMNS})
        elif isinstance(payload, dict) and "accuracy" in payload:
            data.classifier_rows.append(
                {k: _scalar(v) for k, v in payload.items() if not isinstance(v, (list, dict))}
            )
        else:
            data.problems.append(f"{rel}: neither LM results (pass@1) nor classifier results (accuracy)")
    data.tokenizer_images = sorted(str(p) for p in report_dir.rglob("*.png")) if report_dir.is_dir() else []
    return data


def lm_table(
    data: LeaderboardData,
    base_models=None,
    variants=None,
    irs=None,
    tasks=None,
    search="",
    sort_by="pass@1",
    ascending=False,
):
    """The leaderboard table, filtered (None = no filter) and sorted; missing values sort last."""
    import pandas as pd

    frame = pd.DataFrame(data.lm_rows, columns=LM_COLUMNS)
    frame["ir"] = frame["ir"].fillna("none")
    for column, allowed in (("base_model", base_models), ("variant", variants), ("ir", irs), ("task", tasks)):
        if allowed is not None:
            frame = frame[frame[column].isin(allowed)]
    if search:
        frame = frame[frame["model"].str.contains(search, case=False, regex=False, na=False)]
    if sort_by not in SORTABLE_COLUMNS:
        raise ValueError(f"cannot sort by {sort_by!r}; choose one of {SORTABLE_COLUMNS}")
    return frame.sort_values(sort_by, ascending=ascending, na_position="last", kind="stable").reset_index(
        drop=True
    )
