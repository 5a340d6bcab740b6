"""Card (README.md) of an IR tokenizer repo `<ns>/codereps-<field>-tokenizer`.

The YAML says what the Hub indexes (licence, library, tags, training dataset);
the body gives the training data, the pre-tokenization, every vocab size with
its held-out compression against the base LM tokenizer, and how to load it.
"""

from pathlib import Path

IR_DESCRIPTIONS = {
    "ast": "the seed's AST serialization: a pre-order walk of `ast.parse(src)`, each node's class name "
    "upper-cased, joined by `_` (`MODULE_FUNCTIONDEF_ARGUMENTS_ARG_...`)",
    "cfg": "funcskeleton's control-flow graph serialization "
    "`[P][SEP1][ctrl]...[SEP2][succ]...[SEP3][calls]...` (parameter count, each block's control statement, "
    "its successors and its call count)",
}

# `def f(x): return x` in each IR, for the usage snippet.
IR_EXAMPLES = {
    "ast": "MODULE_FUNCTIONDEF_ARGUMENTS_ARG_RETURN_NAME_LOAD",
    "cfg": "[1][SEP1][Return][SEP2][][SEP3][0]",
}

PRETOKENIZER_DESCRIPTIONS = {
    "whole": "none: the whole IR string is one piece, so merges may span node or block boundaries",
    "node": "cut after every `_`: a token never spans two AST nodes",
    "sections": "`[SEP1]`/`[SEP2]`/`[SEP3]` isolated: a token stays within one CFG section",
    "brackets": "every `[...]` group is its own piece",
}


def dataset_repo_id(dataset: str, namespace: str) -> str:
    """A local dataset folder is a copy of the published `<ns>/codereps`; a Hub id is itself."""
    return f"{namespace}/codereps" if Path(dataset).exists() else dataset


def tokenizer_card(field_name, repo_id, dataset, base_tokenizer, base_stats, metadata, default_vocab):
    """A `ModelCard`; `metadata` maps vocab size -> `TokenizerMetadata` with its `evaluation` filled."""
    from huggingface_hub import ModelCard, ModelCardData

    from .render import render_card

    namespace = repo_id.split("/")[0]
    data_repo = dataset_repo_id(dataset, namespace)
    sizes = sorted(metadata)
    first = metadata[sizes[0]]
    card_data = ModelCardData(
        license="apache-2.0",
        library_name="transformers",
        tags=["codereps", "tokenizer", "bpe", "code", field_name, "intermediate-representation"],
        datasets=[data_repo],
    )
    return render_card(
        "tokenizer_card.md.j2",
        card_data,
        ModelCard,
        repo_id=repo_id,
        field_name=field_name,
        ir_description=IR_DESCRIPTIONS[field_name],
        example=IR_EXAMPLES[field_name],
        pretokenizer=first.pretokenizer,
        pretokenizer_description=PRETOKENIZER_DESCRIPTIONS[first.pretokenizer],
        dataset=data_repo,
        configs=first.configs,
        train_rows=first.train_rows,
        train_chars=first.train_chars,
        skipped_empty_rows=first.skipped_empty_rows,
        rows_per_split=first.train_rows_per_split,
        base_tokenizer=base_tokenizer,
        base_stats=base_stats,
        sizes=sizes,
        metadata=metadata,
        default_vocab=default_vocab,
    )


def write_tokenizer_card(folder, **kwargs) -> Path:
    card = tokenizer_card(**kwargs)
    path = Path(folder) / "README.md"
    card.save(path)
    return path
