"""PNG plots of a compression report (matplotlib, headless)."""

from pathlib import Path

TARGET_RATIOS = {"ast": 12.0, "cfg": 8.0}  # issue 4: held-out rows, vocab <= 5000


def plot_report(report: dict, output: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")  # no display on CI machines
    import matplotlib.pyplot as plt

    output = Path(output)
    fields = report["fields"]
    ir_fields = [f for f, e in fields.items() if e["ir"]]
    paths = []

    # 1. Mean tokens per row: the base tokenizer on every field, each IR tokenizer on its own field.
    fig, ax = plt.subplots(figsize=(7, 4))
    labels, means, colors = [], [], []
    for field_name, entry in fields.items():
        labels.append(f"{field_name}\nbase")
        means.append(entry["base"]["mean"])
        colors.append("tab:gray")
        for size, ir in entry["ir"].items():
            labels.append(f"{field_name}\n{size}")
            means.append(ir["mean"])
            colors.append("tab:blue" if field_name == "ast" else "tab:orange")
    ax.bar(range(len(means)), means, color=colors)
    ax.set_xticks(range(len(means)), labels, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("mean tokens per held-out row (log)")
    ax.set_title(f"Tokens per row: base ({report['base_tokenizer'].split(' ')[0]}) vs IR BPE")
    paths.append(_save(fig, output / "tokens_per_row.png"))

    # 2. Compression ratio against vocab size, with the targets.
    if ir_fields:
        fig, ax = plt.subplots(figsize=(6, 4))
        for field_name in ir_fields:
            sizes = [int(s) for s in fields[field_name]["ir"]]
            ratios = [ir["ratio"] for ir in fields[field_name]["ir"].values()]
            (line,) = ax.plot(sizes, ratios, marker="o", label=f"{field_name}")
            if field_name in TARGET_RATIOS:
                ax.axhline(TARGET_RATIOS[field_name], color=line.get_color(), linestyle="--", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("IR vocab size")
        ax.set_ylabel("base tokens / IR tokens (held-out)")
        ax.set_title("Compression vs vocab size (dashed: targets)")
        ax.legend()
        paths.append(_save(fig, output / "compression_ratio.png"))

    # 3. Share of rows that fit each context budget.
    budgets = report["budgets"]
    fig, axes = plt.subplots(1, len(fields), figsize=(4 * len(fields), 3.5), sharey=True, squeeze=False)
    for ax, (field_name, entry) in zip(axes[0], fields.items(), strict=True):
        ax.plot(
            budgets, [entry["base"]["fits"][str(b)] for b in budgets], marker="o", color="gray", label="base"
        )
        for size, ir in entry["ir"].items():
            ax.plot(budgets, [ir["fits"][str(b)] for b in budgets], marker="o", label=f"IR {size}")
        ax.set_xscale("log", base=2)
        ax.set_xticks(budgets, [str(b) for b in budgets])
        ax.set_title(field_name)
        ax.set_xlabel("context budget (tokens)")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("share of held-out rows that fit")
    paths.append(_save(fig, output / "context_fit.png"))
    return paths


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
