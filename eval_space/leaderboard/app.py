"""The codereps leaderboard: a Gradio Space over the results dataset.

    python app.py                                   # results from $CODEREPS_RESULTS, ./results or the Hub
    CODEREPS_RESULTS=build/smoke/results python app.py
    codereps leaderboard --results mrochk/codereps-results

The Space runs without the codereps package (only gradio, pandas, matplotlib,
huggingface_hub), so the data code sits beside this file.
"""

import os
from pathlib import Path

import gradio as gr

try:  # imported as eval_space.leaderboard.app (codereps leaderboard, tests)
    from .leaderboard_data import (
        SORTABLE_COLUMNS,
        LeaderboardData,
        display_table,
        lm_table,
        load_leaderboard_data,
    )
except ImportError:  # run as `python app.py` inside the Space
    from leaderboard_data import (
        SORTABLE_COLUMNS,
        LeaderboardData,
        display_table,
        lm_table,
        load_leaderboard_data,
    )

HERE = Path(__file__).resolve().parent
DEFAULT_RESULTS_REPO = "mrochk/codereps-results"
ROUND_DIGITS = 3  # shown in tables; the results files keep full precision
VARIANT_COLORS = {"A": "#7f7f7f", "B": "#1f77b4", "C": "#2ca02c"}

# System fonts only: the default theme fetches Google Fonts, which offline machines cannot reach.
THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
)


def default_results_source() -> str:
    if os.environ.get("CODEREPS_RESULTS"):
        return os.environ["CODEREPS_RESULTS"]
    bundled = HERE / "results"  # `codereps publish` copies the results into the Space folder
    return str(bundled) if bundled.is_dir() else DEFAULT_RESULTS_REPO


def pass_at_k_figure(frame, metric: str):
    """Grouped bars: one group per (task, base model), one bar per variant (and IR)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
    rows = frame.dropna(subset=[metric])
    if rows.empty:
        ax.text(0.5, 0.5, f"no {metric} results for this selection", ha="center", va="center")
        ax.set_axis_off()
        return fig
    rows = rows.assign(group=rows["task"].astype(str) + "\n" + rows["base_model"].astype(str))
    # Name bars by variant; add the IR only where one variant was trained with several IRs.
    several_irs = rows.groupby("variant")["ir"].nunique().gt(1)
    rows = rows.assign(
        bar=[
            v if not several_irs[v] else f"{v} ({ir})"
            for v, ir in zip(rows["variant"], rows["ir"], strict=True)
        ]
    )
    # One bar per (group, bar): the best model's value, with its own interval (pass@1 only).
    best = rows.sort_values(metric, ascending=False, kind="stable").drop_duplicates(["group", "bar"])
    table = best.pivot(index="group", columns="bar", values=metric)
    width = 0.8 / len(table.columns)
    for i, bar in enumerate(table.columns):
        present = table[bar].notna().to_numpy()  # no bar (not a zero bar) where a model is missing
        positions = [x + (i - (len(table.columns) - 1) / 2) * width for x in range(len(table.index))]
        color = VARIANT_COLORS.get(bar.split(" ")[0])
        heights = table[bar][present]
        yerr = None
        if metric == "pass@1":
            ci = best[best["bar"] == bar].set_index("group").reindex(heights.index)
            low, high = ci["ci_low"].astype(float), ci["ci_high"].astype(float)
            if low.notna().any():  # an interval drawn where known; none where the result has none
                yerr = [(heights - low).clip(lower=0).fillna(0), (high - heights).clip(lower=0).fillna(0)]
        container = ax.bar(
            [p for p, keep in zip(positions, present, strict=True) if keep],
            heights,
            width,
            yerr=yerr,
            capsize=3 if yerr is not None else 0,
            label=bar,
            color=color,
        )
        ax.bar_label(container, fmt="%.2f", fontsize=8)
    ax.set_xticks(range(len(table.index)), table.index)
    ax.set_ylabel(metric)
    ax.set_ylim(0, max(1.0, float(table.max().max()) * 1.15))
    ax.set_title(f"{metric} per variant and base model" + (" (95% interval)" if metric == "pass@1" else ""))
    ax.legend(title="variant", fontsize=8)
    fig.tight_layout()
    return fig


def _choices(data: LeaderboardData, column: str) -> list:
    values = {row[column] if row[column] is not None else "none" for row in data.lm_rows}
    return sorted(str(v) for v in values)


def build_demo(source: str | None = None, data: LeaderboardData | None = None) -> gr.Blocks:
    import pandas as pd

    source = source or default_results_source()
    data = data or load_leaderboard_data(source)
    filter_columns = ["base_model", "variant", "ir", "task"]
    choices = {column: _choices(data, column) for column in filter_columns}

    def refresh(base_models, variants, irs, tasks, search, sort_by, ascending, metric):
        frame = lm_table(data, base_models, variants, irs, tasks, search, sort_by, ascending)
        return display_table(frame, ROUND_DIGITS), pass_at_k_figure(frame, metric)

    first_table = lm_table(data)
    with gr.Blocks(title="codereps leaderboard") as demo:
        gr.Markdown(
            f"# codereps leaderboard\n"
            f"pass@k of code LMs fine-tuned with (B, C) and without (A) an IR of the solution; "
            f"pass@1 with its 95% interval (bootstrap over problems) and each variant against A on the "
            f"same problems. Results: `{source}` ({len(data.lm_rows)} models, "
            f"{len(data.classifier_rows)} classifiers)."
        )
        with gr.Tab("Leaderboard"):
            with gr.Row():
                filters = [
                    gr.CheckboxGroup(choices[c], value=choices[c], label=c, elem_id=f"filter-{c}")
                    for c in filter_columns
                ]
            with gr.Row():
                search = gr.Textbox(label="model contains", elem_id="search")
                sort_by = gr.Dropdown(SORTABLE_COLUMNS, value="pass@1", label="sort by", elem_id="sort-by")
                ascending = gr.Checkbox(value=False, label="ascending", elem_id="ascending")
            table = gr.Dataframe(
                display_table(first_table, ROUND_DIGITS),
                interactive=False,
                elem_id="leaderboard-table",
                max_height=600,
            )
            metric = gr.Radio(
                ["pass@1", "pass@10"], value="pass@1", label="chart metric", elem_id="chart-metric"
            )
            chart = gr.Plot(pass_at_k_figure(first_table, "pass@1"), label="pass@k", elem_id="passk-chart")
            inputs = [*filters, search, sort_by, ascending, metric]
            for component in inputs:
                component.change(refresh, inputs=inputs, outputs=[table, chart])
            if data.problems:  # one collapsed line: what was not read, listed only on request
                with gr.Accordion(
                    f"{len(data.problems)} file(s) not read as results", open=False, elem_id="skipped"
                ):
                    gr.Markdown("\n".join(f"- `{problem}`" for problem in data.problems))

        with gr.Tab("Tokenizer efficiency"):
            if not data.tokenizer_tables and not data.tokenizer_images:
                gr.Markdown("No `tokenizer_report/` in these results.")
            for name, rows in sorted(data.tokenizer_tables.items()):
                gr.Dataframe(
                    pd.DataFrame(rows).round(ROUND_DIGITS),
                    label=name,
                    interactive=False,
                    elem_classes="tokenizer-table",
                )
            for image in data.tokenizer_images:  # full width: the report's plots carry small axis labels
                gr.Image(image, label=Path(image).stem, interactive=False, elem_classes="tokenizer-plot")

        if data.classifier_rows:
            with gr.Tab("Pair classifiers"):
                gr.Dataframe(
                    pd.DataFrame(data.classifier_rows), interactive=False, elem_id="classifier-table"
                )
    return demo


def launch(
    source: str | None = None,
    host: str | None = None,
    port: int | None = None,
    data: LeaderboardData | None = None,
    **kwargs,
):
    """Build and serve the page; `host`/`port` None lets Gradio pick (on a Space: its env settings)."""
    source = source or default_results_source()
    data = data or load_leaderboard_data(source)
    # Report images live under the results folder (perhaps a Hub download cache): let Gradio serve them.
    allowed = sorted({str(Path(p).parent) for p in data.tokenizer_images})
    return build_demo(source, data).launch(
        server_name=host, server_port=port, theme=THEME, ssr_mode=False, allowed_paths=allowed, **kwargs
    )


if __name__ == "__main__":
    launch()
