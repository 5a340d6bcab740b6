"""Card templates and renderers: the README.md of every repo codereps publishes.

`render.render_card` renders `templates/<name>.md.j2` under a `huggingface_hub`
CardData YAML front matter. One module per card kind: `dataset_card`,
`tokenizer_card`, `model_card` (variants A/B/C), `classifier_card`, and
`space_cards` (leaderboard Space, pass@k metric Space, results dataset).
`codereps/card_check.py` checks each card before `codereps publish` uploads it.
"""
