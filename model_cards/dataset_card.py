"""Dataset card of the `<ns>/codereps` dataset repo, rendered from the per-config build reports.

The YAML front matter carries what `datasets` and the Hub read: `configs` with
`data_files` per split (written by `datasets`' own `MetadataConfigs`), and
`dataset_info` with features and split sizes (`DatasetInfosDict`), so
`load_dataset(folder_or_repo, config)` needs nothing else. The body explains
each config: source, licence, filter and what it removed, skipped rows by
reason, and the command that built it.
"""

# Upper bounds (exclusive) of the Hub's size categories.
SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
)


def size_category(n_rows: int) -> str:
    for bound, name in SIZE_CATEGORIES:
        if n_rows < bound:
            return name
    return "n>10M"


def dataset_card(reports: dict, repo_id: str, default_config: str | None = None):
    """A `DatasetCard` for the folder whose configs are described by `reports` ({config: report}).

    `default_config` is marked `default: true` in the YAML `configs`, so `load_dataset(repo)` with no
    config name loads it.
    """
    from datasets.info import DatasetInfo, DatasetInfosDict
    from datasets.splits import SplitDict, SplitInfo
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard, DatasetCardData

    from .render import render_card

    source_reports = [r for r in reports.values() if r["kind"] == "source"]
    has_pairs = any(r["kind"] == "pairs" for r in reports.values())
    licenses = sorted({r["license"] for r in reports.values()})
    largest = max((r["rows_written"] for r in reports.values()), default=0)
    card_data = DatasetCardData(
        pretty_name="codereps: Python source, AST and CFG",
        language=["en", "code"],
        license=licenses[0] if len(licenses) == 1 else licenses,
        task_categories=["text-generation"] + (["text-classification"] if has_pairs else []),
        size_categories=size_category(largest),
        source_datasets=sorted({_source_dataset(r) for r in source_reports if _source_dataset(r)}),
        tags=["code", "python", "ast", "control-flow-graph", "codereps"],
    )
    MetadataConfigs(
        {
            config: {
                "data_files": [{"split": s, "path": info["files"]} for s, info in r["splits"].items()],
                **({"default": True} if config == default_config else {}),
            }
            for config, r in reports.items()
        }
    ).to_dataset_card_data(card_data)
    infos = {}
    for config, r in reports.items():
        from datasets import Features

        splits = SplitDict()
        for split, info in r["splits"].items():
            splits.add(SplitInfo(name=split, num_bytes=info["num_bytes"], num_examples=info["num_examples"]))
        infos[config] = DatasetInfo(
            features=Features.from_dict(r["features"]),
            splits=splits,
            download_size=sum(i["file_bytes"] for i in r["splits"].values()),
            dataset_size=sum(i["num_bytes"] for i in r["splits"].values()),
            config_name=config,
        )
    DatasetInfosDict(infos).to_dataset_card_data(card_data)
    return render_card(
        "dataset_card.md.j2",
        card_data,
        DatasetCard,
        repo_id=repo_id,
        reports=[reports[c] for c in sorted(reports)],
        example_config=_example_config(reports),
        default_config=default_config,
    )


def _source_dataset(report) -> str | None:
    return {
        "mbpp": "google-research-datasets/mbpp",
        "humaneval": "openai/openai_humaneval",
        "codesearchnet": "code-search-net/code_search_net",
    }.get(report.get("source"))


def _example_config(reports) -> str:
    for name in ("mbpp", "codesearchnet", "humaneval"):
        if name in reports:
            return name
    return sorted(reports)[0] if reports else "mbpp"
