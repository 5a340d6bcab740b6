"""Check a repo folder's card (README.md) the way the Hub reads it, before publishing.

The YAML front matter is parsed by `huggingface_hub` itself (`ModelCard`,
`DatasetCard`, `SpaceCard`), so a card that passes here is one the Hub
accepts. Then the fields the Hub uses for each kind of repo are checked:

- every repo: `license`, `tags` (Spaces: `sdk`, `app_file`, and the app file exists);
- a dataset: `configs` (what `load_dataset(repo, config)` reads) unless it only holds result files;
- a model: `datasets`; a LoRA fine-tune (an adapter at the root or in `adapter/`): `base_model`;
  an evaluated model: `model-index` with at least one metric value.
"""

from pathlib import Path

from codereps.hub import HubPublishError


class CardError(HubPublishError):
    """The card is missing or its YAML does not parse; the message names the file."""


def _card_class(repo_type: str):
    from huggingface_hub import DatasetCard, ModelCard, SpaceCard

    return {"model": ModelCard, "dataset": DatasetCard, "space": SpaceCard}[repo_type]


def load_card(folder, repo_type: str):
    path = Path(folder) / "README.md"
    if not path.is_file():
        raise CardError(f"{path}: no card (README.md)")
    try:
        card = _card_class(repo_type).load(path)
    except Exception as e:  # huggingface_hub raises ValueError/YAMLError/TypeError for bad metadata
        raise CardError(f"{path}: card metadata does not parse with huggingface_hub: {e}") from e
    return card


def card_problems(folder, repo_type: str, evaluated: bool = False, needs_configs: bool = True) -> list:
    """What the card at `folder/README.md` lacks, as 'README.md: ...' lines; [] when complete.

    `evaluated`: results exist for this model, so its card must carry them in `model-index`.
    """
    folder = Path(folder)
    card = load_card(folder, repo_type)
    data = card.data.to_dict()
    problems = []

    def need(key: str, why: str) -> None:
        if not data.get(key):
            problems.append(f"README.md: no `{key}` ({why})")

    need("license", "the Hub shows and filters by it")
    need("tags", "the Hub's search and filters")
    if repo_type == "space":
        need("sdk", "the Space cannot start without it")
        need("app_file", "the Space's entry point")
        if data.get("app_file") and not (folder / data["app_file"]).is_file():
            problems.append(f"README.md: app_file {data['app_file']} is not in the folder")
    elif repo_type == "dataset" and needs_configs:
        need("configs", "load_dataset(repo, config) reads the configs' data_files")
    elif repo_type == "model":
        need("datasets", "links the model to its training data")
        # A LoRA fine-tune always has a base; a model trained from scratch (e.g. the dual encoder) has none.
        fine_tuned = (folder / "adapter_config.json").is_file() or (folder / "adapter").is_dir()
        if fine_tuned:
            need("base_model", "the Hub's model tree")
        if evaluated:
            results = getattr(card.data, "eval_results", None) or []
            if not any(r.metric_value is not None for r in results):
                problems.append("README.md: no `model-index` results although the model was evaluated")
    return problems
