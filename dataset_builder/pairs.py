"""Pair configs for the classification experiments (the seed's construction).

For members `a-b` (`src-ast`, `src-cfg`, `ast-cfg`), each split of the source
config becomes rows `(a, b, label, b_correct, func_name)`. About half the rows
are paired off and swap their `b`: label 1 (swapped); the rest keep their own
`b`: label 0 (related). A swap is only made when it yields a truly unrelated
pair: never a row with itself, never two rows with the same `a` or the same
`b`, and never a pair `(a_i, b_j)` that is some row's related pair (small
functions often share a CFG). Each row is swapped at most once. The choice
depends only on the rows and `seed`: the same input and seed give the same
output, whatever the number of processes that built the source config.
"""

import random
from datetime import datetime, timezone
from pathlib import Path

PAIR_MEMBERS = {
    "pairs-src-ast": ("src", "ast"),
    "pairs-src-cfg": ("src", "cfg"),
    "pairs-ast-cfg": ("ast", "cfg"),
}
PAIR_CONFIGS = tuple(PAIR_MEMBERS)
LABEL_NAMES = ["related", "swapped"]
# How many waiting rows a new row is tried against before it waits too; bounds the work per row when a
# split is full of duplicates, while almost every row pairs with the first one it meets.
WAITING_LOOKAHEAD = 64


def choose_swaps(a_values: list, b_values: list, rng: random.Random, swap_share: float = 0.5) -> list:
    """`partner[i]`: the row whose `b` row i gets, or -1. Partners are mutual (i <-> j)."""
    n = len(a_values)
    a_hash = [hash(a) for a in a_values]
    b_hash = [hash(b) for b in b_values]
    related = set(zip(a_hash, b_hash, strict=True))
    wanted_pairs = round(n * swap_share) // 2
    partner = [-1] * n
    order = list(range(n))
    rng.shuffle(order)
    waiting = []
    made = 0
    for i in order:
        if made == wanted_pairs:
            break
        for slot, j in enumerate(waiting[:WAITING_LOOKAHEAD]):
            if _unrelated(i, j, a_values, b_values, a_hash, b_hash, related):
                partner[i], partner[j] = j, i
                del waiting[slot]
                made += 1
                break
        else:
            waiting.append(i)
    return partner


def _unrelated(i, j, a_values, b_values, a_hash, b_hash, related) -> bool:
    if (a_hash[i], b_hash[j]) in related or (a_hash[j], b_hash[i]) in related:
        return False  # a shared hash: check the strings (a true hash collision is astronomically rare)
    return a_values[i] != a_values[j] and b_values[i] != b_values[j]


def pair_features(a: str, b: str):
    from datasets import ClassLabel, Features, Value

    return Features(
        {
            a: Value("string"),
            b: Value("string"),
            "label": ClassLabel(names=LABEL_NAMES),
            f"{b}_correct": Value("string"),
            "func_name": Value("string"),
        }
    )


def split_rng(seed: int, pair_config: str, split: str) -> random.Random:
    # A string seed is hashed with SHA-512 by `random`, so this is stable across runs and machines.
    return random.Random(f"codereps-pairs:{seed}:{pair_config}:{split}")


def pair_split(columns: dict, a: str, b: str, rng: random.Random) -> tuple:
    """`(pair columns, rows left out because a member is null)` for one split's source columns."""
    keep = [
        i
        for i, (x, y) in enumerate(zip(columns[a], columns[b], strict=True))
        if x is not None and y is not None
    ]
    a_values = [columns[a][i] for i in keep]
    b_values = [columns[b][i] for i in keep]
    names = [columns["func_name"][i] for i in keep]
    partner = choose_swaps(a_values, b_values, rng)
    pairs = {
        a: a_values,
        b: [b_values[p] if p >= 0 else b_values[i] for i, p in enumerate(partner)],
        "label": [1 if p >= 0 else 0 for p in partner],
        f"{b}_correct": b_values,
        "func_name": names,
    }
    return pairs, len(columns[a]) - len(keep)


def build_pair_config(
    output,
    from_config: str,
    pair_config: str,
    *,
    seed: int = 0,
    overwrite: bool = False,
    repo_id: str = "mrochk/codereps",
    command: str = "",
    default_config: str | None = None,
    log=print,
) -> dict:
    import pyarrow.parquet as pq
    from datasets import Dataset

    from . import writer

    if pair_config not in PAIR_MEMBERS:
        raise ValueError(f"unknown pair config {pair_config!r}; expected one of {', '.join(PAIR_CONFIGS)}")
    output = Path(output)
    reports = writer.load_reports(output)
    source_report = reports.get(from_config)
    if source_report is None or source_report["kind"] != "source":
        raise FileNotFoundError(f"{output} has no source config {from_config!r} to build pairs from")
    writer.check_can_write(output, [pair_config], overwrite)
    a, b = PAIR_MEMBERS[pair_config]
    features = pair_features(a, b)
    staged = writer.staging_dir(output, pair_config)
    try:
        config_stage = staged / "data" / pair_config
        config_stage.mkdir(parents=True)
        splits, balance, excluded = {}, {}, 0
        for split, info in source_report["splits"].items():
            files = [str(output / f) for f in info["files"]]
            table = pq.read_table(files, columns=[a, b, "func_name"]) if files else None
            columns = table.to_pydict() if table is not None else {a: [], b: [], "func_name": []}
            pairs, left_out = pair_split(columns, a, b, split_rng(seed, pair_config, split))
            excluded += left_out
            ds = Dataset.from_dict(pairs, features=features)
            if len(ds) == 0:
                continue
            splits[split] = writer.write_split_record(ds, staged, config_stage, pair_config, split)
            balance[split] = sum(pairs["label"]) / len(ds) if len(ds) else 0.0
        report = {
            "config": pair_config,
            "kind": "pairs",
            "source": source_report["source"],
            "from_config": from_config,
            "members": [a, b],
            "seed": seed,
            "description": (
                f"({a}, {b}) pairs from `{from_config}` for classification: label 0 related, 1 swapped "
                f"(the `{b}` of another row; the true one is in `{b}_correct`)."
            ),
            "license": source_report["license"],
            "license_note": source_report["license_note"],
            "homepage": source_report.get("homepage", ""),
            "citation": "",
            "features": features.to_dict(),
            "splits": splits,
            "rows_written": sum(s["num_examples"] for s in splits.values()),
            "label_balance": balance,
            "excluded_rows": excluded,
            "command": command,
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        writer.commit_config(
            output, config_stage, pair_config, report, repo_id, default_config=default_config
        )
    finally:
        writer.remove_staging(output, pair_config)
    shares = ", ".join(f"{s} {v:.3f}" for s, v in balance.items())
    log(
        f"codereps dataset: {pair_config}: {report['rows_written']:,} pairs from {from_config}; swapped share {shares}"
    )
    return report
