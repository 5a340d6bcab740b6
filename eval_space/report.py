"""The study's report, from a run folder alone: `<run>/report/README.md`, its PNGs, `<run>/comparisons.json`.

```bash
codereps report build/experiments/smol        # also written at the end of every `codereps experiment`
```

It reads `<run>/results/*.json` (one per model and seed, from the experiment), `<run>/models/*/training_log.json`
and `<run>/warmup/*/training_log.json`, groups the models by variant (`C-warm`: C started from a warm-up),
and writes:

- one table: variant, IR at test time, encoding, warm-up, seeds, pass@1 with its 95% interval (bootstrap
  over problems, and over seeds when there are several: `eval_space.paired`), pass@1+ when the task has
  it, prompt IR tokens, generated tokens, IR fidelity (plan variants), train and generation time;
- `pass_at_1.png` (interval bars), `pass_at_1_vs_tokens.png` (tokens spent per problem: the prompt's IR
  plus everything generated), `loss_curves.png` (every model and warm-up), `paired_vs_A.png` (problems
  won and lost against A, and the difference with its interval);
- `comparisons.json`: every variant against A, per seed (same seed, same problems) and, with several
  seeds, over all of them (`seed: null`, `seeds: [...]`).
"""

import json
from pathlib import Path

from codereps.variants import VARIANT_NAMES, WARM_SUFFIX

BASELINE = "A"
IR_AT_TEST_TIME = {
    "reference": "reference's IR in prompt",
    "generated": "written by the model",
    "aux": "none",
    "none": "none",
}


class ReportError(ValueError):
    """A run folder without results to report on."""


def label_of(results: dict) -> str:
    """A results JSON's row in the report: its variant, `-warm` when it was trained from a warm-up."""
    return results["variant"] + (WARM_SUFFIX if results.get("warmup") else "")


def _order(label: str) -> tuple:
    variant, _, warm = label.partition(WARM_SUFFIX)
    return (
        VARIANT_NAMES.index(variant) if variant in VARIANT_NAMES else len(VARIANT_NAMES),
        bool(warm),
        label,
    )


def load_results(run: Path) -> dict[str, list[dict]]:
    """label -> the results JSONs of that variant, one per seed, in seed order."""
    folder = Path(run) / "results"
    if not folder.is_dir():
        raise ReportError(f"{run}: no results/ folder (run `codereps experiment --output {run}` first)")
    groups: dict[str, list[dict]] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            results = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise ReportError(f"{path}: not JSON ({e})") from e
        if "per_problem" not in results or "variant" not in results:
            raise ReportError(f"{path}: not a results JSON of `codereps experiment` (no per_problem/variant)")
        groups.setdefault(label_of(results), []).append(results)
    if not groups:
        raise ReportError(f"{folder}: no results JSON to report on")
    for runs in groups.values():
        runs.sort(key=lambda r: (r.get("seed") is None, r.get("seed") or 0))
    return dict(sorted(groups.items(), key=lambda item: _order(item[0])))


def _mean(values):
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 4) if values else None


def summarize(groups: dict[str, list[dict]]) -> list[dict]:
    """One row per variant: the table's figures, aggregated over its seeds."""
    from eval_space.paired import pass_at_1_interval

    rows = []
    for label, runs in groups.items():
        first = runs[0]
        interval = pass_at_1_interval(runs)
        warmup = first.get("warmup")
        rows.append(
            {
                "variant": label,
                "ir_at_test_time": IR_AT_TEST_TIME.get(first.get("ir_source"), first.get("ir_source")),
                "ir_source": first.get("ir_source"),
                "ir_encoding": first.get("ir_encoding"),
                "warmup": warmup,
                "seeds": interval["seeds"],
                "problems": interval["problems"],
                "pass@1": interval["pass@1"],
                "pass@1_ci95": interval["pass@1_ci95"],
                **_plus_interval(runs),
                "ir_tokens_per_prompt": _mean(r.get("ir_tokens_per_prompt") for r in runs),
                "generated_tokens_per_problem": _mean(r.get("generated_tokens_per_problem") for r in runs),
                "ir_tokens_generated": _mean(r.get("ir_tokens_generated") for r in runs),
                "ir_well_formed": _mean(r.get("ir_well_formed") for r in runs),
                "ir_fidelity": _mean(r.get("ir_fidelity") for r in runs),
                "train_wall_time_s": _mean(r.get("train_wall_time_s") for r in runs),
                "generation_s": _mean((r.get("timings") or {}).get("generation_s") for r in runs),
                "models": [r.get("model") for r in runs],
            }
        )
    return rows


def _plus_interval(runs: list[dict]) -> dict:
    """pass@1+ (the stricter tests' task, e.g. MBPP+) with its interval, when every seed was rescored on it."""
    from eval_space.paired import pass_at_1_interval
    from eval_space.plus import plus_view

    views = [plus_view(r) for r in runs]
    if not all(views):
        return {"pass@1+": None, "pass@1+_ci95": None, "plus_task": None, "plus_problems": None}
    interval = pass_at_1_interval(views)
    return {
        "pass@1+": interval["pass@1"],
        "pass@1+_ci95": interval["pass@1_ci95"],
        "plus_task": runs[0]["plus"]["task"],
        "plus_problems": interval["problems"],
    }


def _paired(bases: list[dict], others: list[dict]) -> dict:
    """compare_pass_at_1 on pass@1, and under `plus` the same on the stricter tests when both were rescored."""
    from eval_space.paired import compare_pass_at_1
    from eval_space.plus import plus_view

    paired = compare_pass_at_1(bases, others)
    base_views, other_views = [plus_view(r) for r in bases], [plus_view(r) for r in others]
    if all(base_views) and all(other_views):
        paired["plus"] = {"task": others[0]["plus"]["task"], **compare_pass_at_1(base_views, other_views)}
    return paired


def compare(groups: dict[str, list[dict]], baseline: str = BASELINE) -> list[dict]:
    """Every variant against the baseline: per seed they share, and over all shared seeds when several."""

    if baseline not in groups:
        return []
    base_by_seed = {r.get("seed"): r for r in groups[baseline]}
    comparisons = []
    for label, runs in groups.items():
        if label == baseline:
            continue
        pairs = [(base_by_seed[r.get("seed")], r) for r in runs if r.get("seed") in base_by_seed]
        for base, other in pairs:
            comparisons.append({"variant": label, **_paired([base], [other]), "seed": other.get("seed")})
        if len(pairs) > 1:
            bases, others = [p[0] for p in pairs], [p[1] for p in pairs]
            comparisons.append(
                {
                    "variant": label,
                    **_paired(bases, others),
                    "seed": None,
                    "seeds": [o.get("seed") for o in others],
                }
            )
    return comparisons


def headline_comparisons(comparisons: list[dict]) -> list[dict]:
    """One comparison per variant: over all seeds when there are several, else its one seed."""
    best = {}
    for c in comparisons:
        if c["variant"] not in best or c.get("seed") is None:
            best[c["variant"]] = c
    return list(best.values())


def load_loss_curves(run: Path) -> list[dict]:
    """{"name", "kind" ("model" | "warm-up"), "loss_curve"} of every training log in the run."""
    curves = []
    for kind, pattern in (("warm-up", "warmup/*/training_log.json"), ("model", "models/*/training_log.json")):
        for path in sorted(Path(run).glob(pattern)):
            log = json.loads(path.read_text())
            curves.append({"name": path.parent.name, "kind": kind, "loss_curve": log.get("loss_curve") or []})
    return curves


def write_report(run) -> dict:
    """Write the report folder and comparisons.json; returns {summary, comparisons, report, pngs}."""
    run = Path(run)
    groups = load_results(run)
    summary = summarize(groups)
    comparisons = compare(groups)
    (run / "comparisons.json").write_text(json.dumps(comparisons, indent=2) + "\n")
    folder = run / "report"
    folder.mkdir(exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    pngs = plot_report(folder, summary, headline_comparisons(comparisons), load_loss_curves(run))
    first = next(iter(groups.values()))[0]
    (folder / "README.md").write_text(render_markdown(run, first, summary, comparisons, pngs))
    return {"summary": summary, "comparisons": comparisons, "report": folder / "README.md", "pngs": pngs}


# ---- text


def _num(value, fmt="{:.3f}") -> str:
    return "-" if value is None else fmt.format(value)


def _interval(row, key="pass@1") -> str:
    if row[key] is None:
        return "-"
    low, high = row[f"{key}_ci95"]
    return f"{row[key]:.3f} [{low:.3f}, {high:.3f}]"


def _difference(c: dict) -> str:
    low, high = c["ci95"]
    return f"{c['pass@1_difference']:+.3f} [{low:+.3f}, {high:+.3f}]"


def _warmup_text(warmup) -> str:
    if not warmup:
        return "-"
    corpus = str(warmup.get("corpus", "?"))
    return f"{Path(corpus.split(':')[0]).name}{(':' + corpus.split(':')[1]) if ':' in corpus else ''}, {warmup.get('steps')} steps"


TABLE_COLUMNS = (
    ("variant", lambda r: r["variant"]),
    ("IR at test time", lambda r: r["ir_at_test_time"]),
    ("encoding", lambda r: r["ir_encoding"] or "-"),
    ("warm-up", lambda r: _warmup_text(r["warmup"])),
    ("seeds", lambda r: ",".join(str(s) for s in r["seeds"])),
    ("pass@1 [95% CI]", _interval),
    ("pass@1+ [95% CI]", lambda r: _interval(r, "pass@1+")),
    ("prompt IR tok", lambda r: _num(r["ir_tokens_per_prompt"], "{:.1f}")),
    ("generated tok", lambda r: _num(r["generated_tokens_per_problem"], "{:.1f}")),
    ("IR fidelity", lambda r: _num(r["ir_fidelity"])),
    ("train s", lambda r: _num(r["train_wall_time_s"], "{:.0f}")),
    ("generation s", lambda r: _num(r["generation_s"], "{:.0f}")),
)


def _columns(summary):
    """The table's columns; pass@1+ only when some task reported it."""
    has_plus = any(r["pass@1+"] is not None for r in summary)
    return [c for c in TABLE_COLUMNS if not c[0].startswith("pass@1+") or has_plus]


def format_table(summary: list[dict]) -> str:
    """The terminal table (aligned plain text)."""
    columns = _columns(summary)
    cells = [[name for name, _ in columns]] + [[get(r) for _, get in columns] for r in summary]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def format_comparisons(comparisons: list[dict]) -> str:
    """The paired block: each variant against A (over all seeds when several)."""
    rows = headline_comparisons(comparisons)
    if not rows:
        return ""
    plus = next((c["plus"] for c in rows if c.get("plus")), None)
    lines = [
        f"paired vs {rows[0]['baseline'].rsplit('-s', 1)[0]} on the same {rows[0]['problems']} problems, "
        "seed by seed over the seeds both have"
        + (f"; pass@1+ on the {plus['problems']} {plus['task']} problems" if plus else ""),
        f"{'variant':<12} {'seeds':<6} {'pass@1 diff':>11} {'95% CI (bootstrap)':>20} {'better/worse':>13} "
        f"{'sign test p':>12}" + (f" {'pass@1+ diff [95% CI]':>24}" if plus else ""),
    ]
    for c in rows:
        low, high = c["ci95"]
        # variants can have different seed counts (a second seed added for some): each row names its own
        seeds = ",".join(str(s) for s in (c.get("seeds") or [c.get("seed")]))
        lines.append(
            f"{c['variant']:<12} {seeds:<6} {c['pass@1_difference']:>+11.3f} {f'[{low:+.3f}, {high:+.3f}]':>20} "
            f"{str(c['better_on']) + '/' + str(c['worse_on']):>13} {c['sign_test_p']:>12.3f}"
            + (f" {_difference(c['plus']) if c.get('plus') else '-':>24}" if plus else "")
        )
    return "\n".join(lines)


def _plus_sentence(summary: list[dict]) -> str:
    row = next((r for r in summary if r["pass@1+"] is not None), None)
    if row is None:
        return ""
    return (
        f" pass@1+ is the same programs scored on `{row['plus_task']}` ({row['plus_problems']} of the problems, "
        "EvalPlus's base and plus inputs: a program must pass both), with its interval."
    )


def render_markdown(run: Path, first: dict, summary: list[dict], comparisons: list[dict], pngs: dict) -> str:
    columns = _columns(summary)
    lines = [
        f"# codereps study: {run.name}",
        "",
        f"Task `{first.get('task')}` ({first.get('eval_split')}), {summary[0]['problems']} problems, "
        f"{first.get('n_samples')} sample(s) at temperature {first.get('temperature')}, base model "
        f"`{first.get('base_model')}`. Written by `codereps report {run}`.",
    ]
    if first.get("note"):
        lines += ["", f"**{first['note']}**"]
    lines += [
        "",
        "pass@1 is the mean over problems and seeds; its 95% interval is a bootstrap over problems (and over "
        "seeds when there are several). *IR at test time*: `reference's IR in prompt` is the oracle setting (B, C "
        "see the IR of the very solution they must write); `written by the model` is the plan variants' "
        "own IR (removed before execution); IR fidelity is the share of candidates whose written IR equals the "
        "IR of their own program. Times are means per model, in seconds." + _plus_sentence(summary),
        "",
        "| " + " | ".join(name for name, _ in columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    lines += ["| " + " | ".join(get(r) for _, get in columns) + " |" for r in summary]
    rows = headline_comparisons(comparisons)
    if rows:
        plus = next((c["plus"] for c in rows if c.get("plus")), None)
        lines += [
            "",
            f"## Paired against {BASELINE}",
            "",
            "Same problems and same seed; over all seeds when there are several (per-seed rows in "
            "`comparisons.json`). The sign test is exact and two-sided over the problems where the two differ.",
        ]
        if plus:
            lines += [
                "",
                f"pass@1+: the same programs on `{plus['task']}`'s stricter tests (base and plus inputs), "
                f"{plus['problems']} problems; its sign test p follows the difference.",
            ]
        header = "| variant | seeds | pass@1 difference | 95% CI | better on | worse on | sign test p |"
        lines += ["", header + (" pass@1+ difference [95% CI] | p |" if plus else "")]
        lines += ["|" + " --- |" * (header.count("|") - 1 + (2 if plus else 0))]
        for c in rows:
            seeds = ",".join(str(s) for s in (c.get("seeds") or [c.get("seed")]))
            low, high = c["ci95"]
            line = (
                f"| {c['variant']} | {seeds} | {c['pass@1_difference']:+.3f} | [{low:+.3f}, {high:+.3f}] | "
                f"{c['better_on']} | {c['worse_on']} | {c['sign_test_p']:.3f} |"
            )
            if plus:
                stricter = c.get("plus")
                line += (
                    f" {_difference(stricter)} | {stricter['sign_test_p']:.3f} |" if stricter else " - | - |"
                )
            lines.append(line)
    lines += ["", "## Figures", ""]
    titles = {
        "pass_at_1": "pass@1 per variant (95% interval)",
        "pass_at_1_vs_tokens": "pass@1 against tokens spent per problem",
        "loss_curves": "training loss of every model and warm-up",
        "paired_vs_A": f"problems won and lost against {BASELINE}",
    }
    for key, path in pngs.items():
        lines += [f"![{titles.get(key, key)}]({path.name})", ""]
    return "\n".join(lines)


# ---- figures


def plot_report(folder: Path, summary: list[dict], comparisons: list[dict], curves: list[dict]) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    pngs = {}
    labels = [r["variant"] for r in summary]
    colors = {label: plt.cm.tab10(i % 10) for i, label in enumerate(labels)}

    fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(labels) + 2), 3.6))
    plus = all(r["pass@1+"] is not None for r in summary)
    width, legend = (0.4 if plus else 0.8), []
    for key, offset, hatch in (("pass@1", -width / 2 if plus else 0.0, None), ("pass@1+", width / 2, "//")):
        if key == "pass@1+" and not plus:
            continue
        values = [r[key] for r in summary]
        errors = [
            [v - r[f"{key}_ci95"][0] for v, r in zip(values, summary, strict=True)],
            [r[f"{key}_ci95"][1] - v for v, r in zip(values, summary, strict=True)],
        ]
        where = [i + offset for i in range(len(labels))]
        name = key if key == "pass@1" else f"pass@1+ ({summary[0]['plus_task']})"
        ax.bar(where, values, width, yerr=errors, capsize=4, color=[colors[x] for x in labels], hatch=hatch)
        legend.append(Patch(facecolor="white", edgecolor="gray", hatch=hatch, label=name))
    ax.set_xticks(range(len(labels)), labels)
    if plus:  # hatched: the stricter tests; headroom above the bars for the legend
        top = max(max(r["pass@1_ci95"][1], r["pass@1+_ci95"][1]) for r in summary)
        ax.set_ylim(top=1.3 * top if top > 0 else 1.0)
        ax.legend(handles=legend, fontsize=7, loc="upper right", ncol=2)
    ax.set_ylabel("pass@1 (95% CI)")
    ax.set_ylim(bottom=0)
    ax.set_title("pass@1 per variant")
    ax.tick_params(axis="x", rotation=30)
    ax.grid(axis="y", alpha=0.3)
    pngs["pass_at_1"] = _save(fig, folder / "pass_at_1.png", plt)

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for r in summary:
        spent = (r["ir_tokens_per_prompt"] or 0) + (r["generated_tokens_per_problem"] or 0)
        low, high = r["pass@1_ci95"]
        ax.errorbar(
            [spent],
            [r["pass@1"]],
            yerr=[[r["pass@1"] - low], [high - r["pass@1"]]],
            fmt="o",
            capsize=3,
            color=colors[r["variant"]],
        )
        ax.annotate(r["variant"], (spent, r["pass@1"]), textcoords="offset points", xytext=(5, 3), fontsize=8)
    ax.set_xlabel("tokens per problem (prompt IR + generated)")
    ax.set_ylabel("pass@1 (95% CI)")
    ax.set_title("pass@1 against tokens spent")
    ax.grid(alpha=0.3)
    pngs["pass_at_1_vs_tokens"] = _save(fig, folder / "pass_at_1_vs_tokens.png", plt)

    if any(c["loss_curve"] for c in curves):
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for c in curves:
            if not c["loss_curve"]:
                continue
            steps = [p["step"] for p in c["loss_curve"]]
            style = ":" if c["kind"] == "warm-up" else "-"
            ax.plot(steps, [p["loss"] for p in c["loss_curve"]], style, marker=".", label=c["name"], lw=1)
        ax.set_xlabel("step")
        ax.set_ylabel("training loss")
        ax.set_title("loss curves (dotted: warm-ups)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, ncol=2)
        pngs["loss_curves"] = _save(fig, folder / "loss_curves.png", plt)

    if comparisons:
        fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(comparisons) + 1.6))
        names = [c["variant"] for c in comparisons]
        ax.barh(
            names, [c["better_on"] for c in comparisons], color="tab:green", label=f"better than {BASELINE}"
        )
        ax.barh(names, [-c["worse_on"] for c in comparisons], color="tab:red", label=f"worse than {BASELINE}")
        for i, c in enumerate(comparisons):
            low, high = c["ci95"]
            ax.annotate(
                f"{c['pass@1_difference']:+.3f} [{low:+.3f}, {high:+.3f}]",
                (0, i),
                textcoords="offset points",
                xytext=(4, 6),
                fontsize=7,
            )
        ax.axvline(0, color="black", lw=0.8)
        ax.invert_yaxis()
        ax.set_xlabel("problems (mean over seeds): won (right) / lost (left)")
        ax.set_title(f"paired against {BASELINE}: pass@1 difference [95% CI]")
        ax.legend(fontsize=7, loc="lower right")
        pngs["paired_vs_A"] = _save(fig, folder / "paired_vs_A.png", plt)
    return pngs


def _save(fig, path: Path, plt) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---- command line


def run_report(args) -> int:
    import sys

    try:
        report = write_report(Path(args.run))
    except ReportError as e:
        print(f"codereps report: error: {e}", file=sys.stderr)
        return 2
    print(format_table(report["summary"]))
    block = format_comparisons(report["comparisons"])
    if block:
        print("\n" + block)
    print(f"\nwrote {report['report']} and {len(report['pngs'])} PNGs beside it")
    return 0


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "report", help="the study's report of a run folder: table, PNGs, paired comparisons against A"
    )
    parser.add_argument("run", help="run folder of `codereps experiment` (holds results/)")
    parser.set_defaults(func=run_report)
    return parser
