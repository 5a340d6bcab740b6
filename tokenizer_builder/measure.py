"""Token counts per row and their summary: mean, p50, p95, max, share of rows within context budgets."""

import math

DEFAULT_BUDGETS = (128, 256, 512)


def token_lengths(hf_tokenizer, texts: list[str], batch_size: int = 512) -> list[int]:
    """Tokens per text, without special tokens (a BOS would be counted once per row for every tokenizer)."""
    lengths = []
    for start in range(0, len(texts), batch_size):
        ids = hf_tokenizer(texts[start : start + batch_size], add_special_tokens=False)["input_ids"]
        lengths.extend(len(row) for row in ids)
    return lengths


def percentile(sorted_values: list[int], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on an already sorted list."""
    if not sorted_values:
        return math.nan
    position = (len(sorted_values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def length_stats(lengths: list[int], budgets=DEFAULT_BUDGETS) -> dict:
    ordered = sorted(lengths)
    n = len(ordered)
    return {
        "rows": n,
        "total": sum(ordered),
        "mean": sum(ordered) / n if n else math.nan,
        "p50": percentile(ordered, 0.5),
        "p95": percentile(ordered, 0.95),
        "max": ordered[-1] if n else 0,
        "fits": {str(b): (sum(1 for x in ordered if x <= b) / n if n else math.nan) for b in budgets},
    }


def compression(base_lengths: list[int], ir_lengths: list[int]) -> dict:
    """How many times fewer tokens the IR tokenizer spends than the base one on the same rows.

    `ratio` is total base tokens / total IR tokens (= ratio of the means); `mean_row_ratio`
    averages the per-row ratios, which weighs short rows as much as long ones.
    """
    total_ir = sum(ir_lengths)
    per_row = [b / i for b, i in zip(base_lengths, ir_lengths, strict=True) if i]
    return {
        "ratio": sum(base_lengths) / total_ir if total_ir else math.nan,
        "mean_row_ratio": sum(per_row) / len(per_row) if per_row else math.nan,
    }
