"""Shared card rendering: Jinja templates in `model_cards/templates/` + `huggingface_hub` card data.

Each card kind (dataset, tokenizer, model, metric, Space) has its own module
that builds a `CardData` and a context, then calls `render_card`. The YAML front
matter is produced by `huggingface_hub` (`CardData.to_yaml`), so it is exactly
what the Hub parses.
"""

from pathlib import Path

import jinja2

TEMPLATES_DIR = Path(__file__).parent / "templates"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    undefined=jinja2.StrictUndefined,  # a missing field is a bug, not an empty line in a published card
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_card(template_name: str, card_data, card_class=None, **context):
    """Render `templates/<template_name>` with `card_data` as YAML front matter; returns a `RepoCard`.

    `card_class` is `ModelCard`, `DatasetCard` or `SpaceCard` (default `RepoCard`).
    """
    from huggingface_hub import RepoCard

    card_class = card_class or RepoCard
    body = _env.get_template(template_name).render(card_data=card_data, **context)
    content = f"---\n{card_data.to_yaml()}\n---\n\n{body.lstrip()}"
    return card_class(content)
