"""Read a results folder (or a Hub results dataset) into the leaderboard's tables.

Layout read (what `codereps experiment` writes to `<run>/results/` and
`codereps publish` uploads as `<ns>/codereps-results`):

- `*.json` with `pass@1`: one fine-tuned LM's results (`model`, `base_model`,
  `variant`, `ir`, `task`, `pass@1`, `pass@1_ci95`, `pass@10`, `per_problem`, and
  the study's `ir_source`, `ir_encoding`, `warmup`, `seed` where known);
- `*.json` with `accuracy` and no `pass@1`: a pair classifier's results;
- `comparisons.json`: each variant against A on the same problems (inside the
  results folder, or beside it as in a run folder `<run>/comparisons.json`);
- `tokenizer_report/*.json` and `*.png`: the IR tokenizers' compression report
  (inside the results folder, or beside it as in a run folder `<run>/results`,
  `<run>/tokenizer_report`).

A pass@1 without `pass@1_ci95` (older results) gets its interval from a bootstrap
over its `per_problem` records; a variant missing from `comparisons.json` is
compared with the A of the same base model, task and seed from the two
`per_problem` lists. Both use `eval_space/paired.py` (the Space carries a copy).

This module needs only pandas, numpy and huggingface_hub so the Space runs without
the codereps package. A file that cannot be read is reported in `problems`
(path and reason), never dropped silently.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

try:  # imported as eval_space.leaderboard.leaderboard_data
    from ..paired import compare_pass_at_1, pass_at_1_ci95
except ImportError:  # inside the Space: paired.py sits beside this file
    from paired import compare_pass_at_1, pass_at_1_ci95

CI_COLUMN = "pass@1 95% CI"
VS_A_COLUMN = "vs A: Δpass@1 [95% CI] sign-test p"
# What decides the ranking first (it fits the first screen), then the study's settings, then the rest.
LM_COLUMNS = [
    "model",
    "variant",
    "ir",
    "task",
    "pass@1",
    CI_COLUMN,
    VS_A_COLUMN,
    "pass@10",
    "pass@1+",
    "ir_source",
    "ir_encoding",
    "warmup",
    "seed",
    "base_model",
    "n_samples",
    "temperature",
    "ir_tokens_per_prompt",
    "train_tokens_per_s",
]
# The study's fields: absent in results written before it (shown blank, not as "none").
STUDY_COLUMNS = ("ir_source", "ir_encoding", "warmup", "seed")
SORTABLE_COLUMNS = ["pass@1", "pass@10", "pass@1+", "ir_tokens_per_prompt", "train_tokens_per_s", "model"]
TOKENIZER_REPORT_DIR = "tokenizer_report"
COMPARISONS_FILE = "comparisons.json"
BASELINE_VARIANT = "A"
REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]*[A-Za-z0-9_]")


@dataclass
class LeaderboardData:
    source: str
    lm_rows: list = field(default_factory=list)  # one dict per LM result, LM_COLUMNS + "pass@1_ci95"
    classifier_rows: list = field(default_factory=list)
    tokenizer_tables: dict = field(default_factory=dict)  # report file name -> list of flat rows
    tokenizer_images: list = field(default_factory=list)  # paths of report PNGs
    problems: list = field(default_factory=list)  # "path: reason" of each file skipped


def resolve_results_source(source: str) -> Path:
    """A local folder (a run folder means its results/); otherwise a Hub dataset repo id, downloaded."""
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir():
            raise NotADirectoryError(
                f"results source {source} is a file, expected a folder or a dataset repo id"
            )
        if (path / "results").is_dir():
            return path / "results"  # a run folder: its results/ (comparisons, tokenizer_report/ beside it)
        return path
    if not REPO_ID.fullmatch(source):
        raise FileNotFoundError(
            f"results source {source!r} is not a folder (nor a '<namespace>/<name>' repo id)"
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


def _warmup_text(warmup) -> str:
    if warmup is None:
        return "none"
    if isinstance(warmup, dict):
        return f"{warmup.get('corpus', '?')} ({warmup.get('steps', '?')} steps)"
    return str(warmup)


def _study_fields(payload: dict) -> dict:
    fields = {}
    for name in STUDY_COLUMNS:
        if name not in payload:
            fields[name] = ""  # written before the study added it: unknown, not "none"
        elif name == "warmup":
            fields[name] = _warmup_text(payload[name])
        elif name == "seed":
            fields[name] = "" if payload[name] is None else str(payload[name])
        else:
            fields[name] = "none" if payload[name] is None else str(payload[name])
    return fields


def _ci95(payload: dict, rel: Path, problems: list) -> list | None:
    """The results' own `pass@1_ci95`, else a bootstrap over `per_problem`; None when neither is there."""
    ci = payload.get("pass@1_ci95")
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        return [float(ci[0]), float(ci[1])]
    if payload.get("per_problem"):
        try:
            return pass_at_1_ci95(payload)
        except (KeyError, TypeError, ZeroDivisionError) as e:
            problems.append(f"{rel}: per_problem unusable for an interval ({type(e).__name__}: {e})")
    return None


def _lm_row(payload: dict, rel: Path, problems: list) -> dict:
    row = {col: _scalar(payload.get(col)) for col in LM_COLUMNS if col not in (CI_COLUMN, VS_A_COLUMN)}
    row.update(_study_fields(payload))
    row["pass@1_ci95"] = _ci95(payload, rel, problems)
    return row


def _comparison_text(comparison: dict) -> str:
    low, high = comparison["ci95"]
    return (
        f"{comparison['pass@1_difference']:+.3f} [{low:+.3f}, {high:+.3f}] p={comparison['sign_test_p']:.3g}"
    )


def _find_comparisons(root: Path, problems: list) -> list:
    for path in (root / COMPARISONS_FILE, root.parent / COMPARISONS_FILE):
        if path.is_file():
            payload = _read_json(path, Path(path.name), problems)
            if isinstance(payload, list) and all(isinstance(c, dict) for c in payload):
                return payload
            if payload is not None:
                problems.append(f"{path.name}: not a list of comparisons")
            return []
    return []


def _attach_comparisons(lm_rows: list, payloads: list, comparisons: list, problems: list) -> None:
    """Each non-A row gets its paired comparison with A: from comparisons.json, else from per_problem."""
    listed = {}
    for c in comparisons:
        if {"ci95", "pass@1_difference", "sign_test_p"} <= c.keys():
            listed[(c.get("model"), c.get("seed"))] = c
            listed.setdefault((c.get("model"), None), c)
    baselines = {
        (p.get("base_model"), p.get("task"), p.get("seed")): p
        for p in payloads
        if p.get("variant") == BASELINE_VARIANT
    }
    for row, payload in zip(lm_rows, payloads, strict=True):
        if row["variant"] == BASELINE_VARIANT:
            row[VS_A_COLUMN] = "baseline"
            continue
        comparison = listed.get((row["model"], payload.get("seed"))) or listed.get((row["model"], None))
        baseline = baselines.get((payload.get("base_model"), payload.get("task"), payload.get("seed")))
        if comparison is None and baseline is not None and payload.get("per_problem"):
            try:
                comparison = compare_pass_at_1(baseline, payload)
            except (ValueError, KeyError, TypeError, ZeroDivisionError) as e:
                problems.append(f"{row['model']}: no paired comparison with A ({e})")
        row[VS_A_COLUMN] = _comparison_text(comparison) if comparison else ""


def load_leaderboard_data(source: str) -> LeaderboardData:
    root = resolve_results_source(str(source))
    data = LeaderboardData(source=str(source))
    report_dir = root / TOKENIZER_REPORT_DIR
    if not report_dir.is_dir() and (root.parent / TOKENIZER_REPORT_DIR).is_dir():
        report_dir = root.parent / TOKENIZER_REPORT_DIR
    paths = sorted(root.rglob("*.json"))
    if not report_dir.is_relative_to(root):
        paths += sorted(report_dir.rglob("*.json"))
    lm_payloads = []
    for path in paths:
        rel = path.relative_to(root if path.is_relative_to(root) else root.parent)
        if any(part.startswith(".") for part in rel.parts) or rel == Path(COMPARISONS_FILE):
            continue  # e.g. .cache/huggingface left by downloads; comparisons are read below
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
            data.lm_rows.append(_lm_row(payload, rel, data.problems))
            lm_payloads.append(payload)
        elif isinstance(payload, dict) and "accuracy" in payload:
            data.classifier_rows.append(
                {k: _scalar(v) for k, v in payload.items() if not isinstance(v, (list, dict))}
            )
        else:
            data.problems.append(f"{rel}: neither LM results (pass@1) nor classifier results (accuracy)")
    _attach_comparisons(data.lm_rows, lm_payloads, _find_comparisons(root, data.problems), data.problems)
    data.tokenizer_images = sorted(str(p) for p in report_dir.rglob("*.png")) if report_dir.is_dir() else []
    return data


def _ci_text(ci) -> str:
    return "" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


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
    """The leaderboard table, filtered (None = no filter) and sorted; missing values sort last.

    Besides LM_COLUMNS it carries `ci_low`/`ci_high` (the interval as numbers, for the chart);
    `display_table` drops them.
    """
    import pandas as pd

    frame = pd.DataFrame(
        [
            {
                **row,
                CI_COLUMN: _ci_text(row.get("pass@1_ci95")),
                "ci_low": (row.get("pass@1_ci95") or [None, None])[0],
                "ci_high": (row.get("pass@1_ci95") or [None, None])[1],
            }
            for row in data.lm_rows
        ],
        columns=[*LM_COLUMNS, "ci_low", "ci_high"],
    )
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


def display_table(frame, digits: int = 3):
    """What the page shows: rounded figures, blanks (not NaN) where a result has no value, no helper columns."""
    shown = frame.drop(columns=["ci_low", "ci_high"]).round(digits)
    if shown["pass@1+"].isna().all():
        shown = shown.drop(columns=["pass@1+"])  # EvalPlus tasks only
    return shown.astype(object).where(shown.notna(), "")
