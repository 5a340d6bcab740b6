"""Source item -> dataset row: filter, serialize, derive columns. Pure and per-item.

Every item yields exactly one generator row, so nothing disappears unseen: a row
that is filtered out or cannot be used carries `_skip` (a reason slug, filter
rules prefixed with `filter:`) and `_detail` (file/line and message); the build
counts and drops those after generation. The columns are fixed by an explicit
`datasets.Features` schema:

- upstream metadata (per source), then `src`, `ast`, `cfg`;
- `func_name` (qualified where the source knows it, else the name of the first
  function, the one whose CFG is serialized), `n_params` (the CFG's `P`),
  `n_blocks` (CFG blocks), `src_chars`, `src_lines`, `ast_nodes`;
- benchmarks only: `ir_error` (null unless the reference solution could not be
  serialized; such problems are kept so evaluation sees all of them).
"""

import warnings

from .filters import FILTER_REASON_PREFIX, first_failed_rule
from .ir import IRError, serialize_or_error
from .ir.parsing import first_function, parse_source
from .sources.base import Skip

INTERNAL_COLUMNS = ("_order", "_split", "_skip", "_detail")


class BadFieldError(ValueError):
    reason = "bad_field"


def derived_features(include_func_name: bool):
    from datasets import Value

    columns = {"src": Value("string"), "ast": Value("string"), "cfg": Value("string")}
    if include_func_name:
        columns["func_name"] = Value("string")
    columns.update(
        {
            "n_params": Value("int32"),
            "n_blocks": Value("int32"),
            "src_chars": Value("int32"),
            "src_lines": Value("int32"),
            "ast_nodes": Value("int32"),
        }
    )
    return columns


def row_features(source):
    """The published schema of a source's config."""
    from datasets import Features, Value

    meta = source.metadata_features()
    columns = dict(meta)
    columns.update(derived_features(include_func_name="func_name" not in meta))
    if source.keep_ir_failures:
        columns["ir_error"] = Value("string")
    return Features(columns)


def generator_features(source):
    from datasets import Features, Value

    columns = dict(row_features(source))
    columns.update(
        {
            "_order": Value("int64"),
            "_split": Value("string"),
            "_skip": Value("string"),
            "_detail": Value("string"),
        }
    )
    return Features(columns)


def cfg_counts(cfg: str | None) -> tuple:
    """`(n_params, n_blocks)` read off `[P][SEP1][C_0]...[C_n-1][SEP2]...`."""
    if not cfg:
        return None, None
    n_params = int(cfg[1 : cfg.index("]")])
    controls = cfg[cfg.index("[SEP1]") + len("[SEP1]") : cfg.index("[SEP2]")]
    return n_params, controls.count("[")


def _coerce(name, value, feature):
    from datasets import List, Value

    if value is None:
        return None
    if isinstance(feature, Value):
        if feature.dtype == "string" and isinstance(value, str):
            return value
        if feature.dtype.startswith("int") and isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(feature, List) and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise BadFieldError(f"field {name!r} is a {type(value).__name__}, expected {feature}")


def skip_row(columns, order, reason, detail):
    row = dict.fromkeys(columns)
    row.update({"_order": order, "_skip": reason, "_detail": detail})
    return row


def make_row(item, source, filter_name: str, columns: dict, meta_features: dict) -> dict:
    """One generator row (a dict over `columns`) for one source item."""
    if isinstance(item, Skip):
        return skip_row(columns, item.order, item.reason, item.detail)
    where = _where(item)
    src = item.src
    if not isinstance(src, str):
        return skip_row(columns, item.order, "bad_source_type", f"{where}: source is a {type(src).__name__}")
    if "\x00" in src:
        return skip_row(columns, item.order, "nul_bytes", f"{where}: source contains NUL bytes")
    rule = first_failed_rule(filter_name, src)
    if rule is not None:
        return skip_row(columns, item.order, FILTER_REASON_PREFIX + rule.name, f"{where}: {rule.description}")
    try:
        meta = {name: _coerce(name, item.meta.get(name), feature) for name, feature in meta_features.items()}
    except BadFieldError as e:
        return skip_row(columns, item.order, e.reason, f"{where}: {e}")

    ir = _quietly(serialize_or_error, src)
    if ir["error"] is not None and not source.keep_ir_failures:
        reason, _, message = ir["error"].partition(": ")
        return skip_row(columns, item.order, reason, f"{where}: {message}")

    row = dict.fromkeys(columns)
    row.update(meta)
    n_params, n_blocks = cfg_counts(ir["cfg"])
    row.update(
        {
            "src": src,
            "ast": ir["ast"],
            "cfg": ir["cfg"],
            "n_params": n_params,
            "n_blocks": n_blocks,
            "src_chars": len(src),
            "src_lines": src.count("\n") + (not src.endswith("\n")),  # a final newline ends a line
            "ast_nodes": ir["ast"].count("_") + 1 if ir["ast"] else None,
            "_order": item.order,
            "_split": item.split,
        }
    )
    if "func_name" not in meta:
        row["func_name"] = item.func_name or _quietly(_first_function_name, src)
    if source.keep_ir_failures:
        row["ir_error"] = ir["error"]
    return row


def _quietly(function, src):
    with warnings.catch_warnings():
        # Parsing someone's code warns about *their* code (invalid escapes, `is` with a literal): not ours to print.
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return function(src)


def _first_function_name(src: str) -> str | None:
    try:
        return first_function(parse_source(src)).name
    except IRError:
        return None


def _where(item) -> str:
    meta = item.meta or {}
    for key in ("task_id", "url", "path"):
        if meta.get(key) is not None:
            label = f"{key}={meta[key]}"
            return f"{label}:{meta['lineno']}" if key == "path" and "lineno" in meta else label
    return f"row {item.order & 0xFFFFFFFF}"


def generate_rows(shards, source, filter_name):
    """`Dataset.from_generator` entry point: every item of every shard, in shard order."""
    columns = dict.fromkeys(generator_features(source))
    meta_features = dict(source.metadata_features())  # built once: Features objects are not free
    for shard in shards:
        for item in source.read_shard(shard):
            yield make_row(item, source, filter_name, columns, meta_features)
