"""Model card of a fine-tuned variant (`codereps.variants`) (`codereps train` / `codereps experiment`).

YAML front matter from `huggingface_hub.ModelCardData`: base model, dataset, tags, and a
`model-index` with pass@k once the evaluation results exist.
"""

from pathlib import Path

from codereps.paths import DEFAULT_NAMESPACE
from codereps.variants import get_variant

# Offline stand-ins are folders on disk; the card names the Hub repo they stand for.
KNOWN_BASE_MODELS = {"smollm2": "HuggingFaceTB/SmolLM2-135M-Instruct"}
# the Hub datasets of the stricter tests a study rescores its generations on (eval_space.plus)
STRICTER_TASK_REPOS = {"mbpp+": "evalplus/mbppplus", "humaneval+": "evalplus/humanevalplus"}


def base_model_repo_id(base_model: str) -> str | None:
    if base_model in KNOWN_BASE_MODELS:
        return KNOWN_BASE_MODELS[base_model]
    return None if Path(str(base_model)).exists() else str(base_model)


def model_card(log: dict, results: dict | None = None, namespace: str = DEFAULT_NAMESPACE):
    """A `ModelCard` from a training log (`training_log.json`) and, when evaluated, its results JSON."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    from .render import render_card

    repo_id = f"{namespace}/{log['model']}"
    dataset_repo_id = f"{namespace}/codereps"
    eval_results = None
    if results is not None:
        eval_results = [
            EvalResult(
                task_type="text-generation",
                task_name="program synthesis",
                dataset_type=dataset_repo_id,
                dataset_name=f"codereps {results['task']}",
                dataset_config=results["task"],
                dataset_split="test",
                metric_type="code_eval",
                metric_name=metric,
                metric_value=results[metric],
                verified=False,
            )
            for metric in ("pass@1", "pass@10")
            if results.get(metric) is not None
        ]
        plus = results.get("plus")
        if plus and plus.get("pass@1+") is not None:  # the same programs on EvalPlus's base + plus inputs
            eval_results.append(
                EvalResult(
                    task_type="text-generation",
                    task_name="program synthesis",
                    dataset_type=STRICTER_TASK_REPOS.get(plus["task"], plus["task"]),
                    dataset_name=f"{plus['task']} ({plus['problems']} problems)",
                    dataset_split="test",
                    metric_type="code_eval",
                    metric_name="pass@1+",
                    metric_value=plus["pass@1+"],
                    verified=False,
                )
            )
    base = base_model_repo_id(log["base_model"])
    card_data = ModelCardData(
        model_name=log["model"],
        license="apache-2.0",
        library_name="transformers",
        pipeline_tag="text-generation",
        tags=["codereps", "code", "peft", "lora", f"variant-{log['variant']}"]
        + ([log["ir"]] if log["ir"] else []),
        datasets=[dataset_repo_id],
        base_model=base,
        eval_results=eval_results,
    )
    return render_card(
        "model_card.md.j2",
        card_data,
        ModelCard,
        repo_id=repo_id,
        log=log,
        base_model=base or log["base_model"],
        variant=get_variant(log["variant"]),
        variant_description=get_variant(log["variant"]).description,
        results=results,
    )
