"""Evaluating a pair classifier: accuracy, F1 (positive class: 1, swapped), confusion counts, errors, IR length."""

import json

import torch

from .features import token_ids


def predict_logits(classifier, rows, batch_size=64):
    """The model's logits for every row (row order) and the mean loss, in eval mode (no dropout)."""
    from torch.utils.data import DataLoader

    encoded = classifier.encode(rows)
    loader = DataLoader(encoded, batch_size=batch_size, collate_fn=classifier.collator())
    model = classifier.model.eval()
    logits, loss_sum = [], 0.0
    with torch.no_grad():
        for batch in loader:
            out = model(**batch)
            logits.append(out.logits)
            loss_sum += out.loss.item() * len(batch["labels"])
    return torch.cat(logits), loss_sum / len(encoded)


def predict(classifier, rows, batch_size=64):
    """P(swapped) and the mean loss for every row, in row order."""
    logits, mean_loss = predict_logits(classifier, rows, batch_size)
    return classifier.prob_swapped(logits).tolist(), mean_loss


def classification_metrics(labels, predictions):
    tp = sum(1 for y, p in zip(labels, predictions, strict=True) if y == 1 and p == 1)
    tn = sum(1 for y, p in zip(labels, predictions, strict=True) if y == 0 and p == 0)
    fp = sum(1 for y, p in zip(labels, predictions, strict=True) if y == 0 and p == 1)
    fn = sum(1 for y, p in zip(labels, predictions, strict=True) if y == 1 and p == 0)
    n = len(labels)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": round((tp + tn) / n, 4),
        "f1": round(f1, 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "n_samples": n,
        "n_errors": fp + fn,
        "confusion": {"true_related": tn, "false_swapped": fp, "false_related": fn, "true_swapped": tp},
    }


def ir_length(member: str, text: str) -> int:
    """A tokenizer-independent IR size: AST nodes, or CFG blocks (the `[C_i]` fields between SEP1 and SEP2)."""
    if member == "cfg" and "[SEP1]" in text and "[SEP2]" in text:
        return text.split("[SEP1]", 1)[1].split("[SEP2]", 1)[0].count("[")
    if member == "ast":
        return len(text.split("_"))
    return len(text.split())


def accuracy_by_ir_length(member, texts, correct, n_bins=10):
    """Accuracy per IR-length bin (bins by quantile, so each holds about the same number of rows)."""
    lengths = [ir_length(member, t) for t in texts]
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    size = max(1, -(-len(order) // n_bins))
    bins = []
    for start in range(0, len(order), size):
        chunk = order[start : start + size]
        bins.append(
            {
                "min_length": lengths[chunk[0]],
                "max_length": lengths[chunk[-1]],
                "n": len(chunk),
                "accuracy": round(sum(correct[i] for i in chunk) / len(chunk), 4),
            }
        )
    return bins


def write_errors(path, classifier, rows, probs, predictions):
    """One JSON line per misclassified pair: both members, how each was tokenized, the correct partner."""
    wrong = [i for i, (y, p) in enumerate(zip(rows["label"], predictions, strict=True)) if y != p]
    tok_a, tok_b = classifier.member_tokenizer("a"), classifier.member_tokenizer("b")
    subset = rows.select(wrong)
    ids_a, ids_b = token_ids(tok_a, subset["a"]), token_ids(tok_b, subset["b"])
    with open(path, "w") as f:
        for j, i in enumerate(wrong):
            row = subset[j]
            record = {
                "row": i,
                "func_name": row.get("func_name"),
                "label": row["label"],
                "predicted": predictions[i],
                "prob_swapped": round(probs[i], 4),
                "a": row["a"],
                "b": row["b"],
                "b_correct": row.get("b_correct"),
                "tokens_a": tok_a.convert_ids_to_tokens(ids_a[j]),
                "tokens_b": tok_b.convert_ids_to_tokens(ids_b[j]),
            }
            f.write(json.dumps(record) + "\n")
    return len(wrong)


def plot_accuracy_by_ir_length(path, bins, member, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{b['min_length']}-{b['max_length']}" for b in bins]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(range(len(bins)), [b["accuracy"] for b in bins], color="tab:blue")
    for x, b in enumerate(bins):
        ax.text(x, b["accuracy"], f"n={b['n']}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(bins)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(f"{member} length ({'AST nodes' if member == 'ast' else 'CFG blocks'}), quantile bins")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def evaluate_classifier(classifier, rows, out_dir, batch_size=64):
    """Metrics on `rows`; writes `errors.jsonl` and `accuracy_vs_ir_length.png` into `out_dir`."""
    probs, mean_loss = predict(classifier, rows, batch_size)
    predictions = [int(p > 0.5) for p in probs]
    labels = list(rows["label"])
    metrics = classification_metrics(labels, predictions)
    metrics["mean_loss"] = round(mean_loss, 4)
    ir_member = classifier.members[1]
    correct = [int(y == p) for y, p in zip(labels, predictions, strict=True)]
    bins = accuracy_by_ir_length(ir_member, rows["b"], correct)
    metrics["accuracy_by_ir_length"] = bins
    out_dir.mkdir(parents=True, exist_ok=True)
    write_errors(out_dir / "errors.jsonl", classifier, rows, probs, predictions)
    plot_accuracy_by_ir_length(
        out_dir / "accuracy_vs_ir_length.png", bins, ir_member, f"{classifier.arch} on {classifier.pair}"
    )
    return metrics
