"""model_cards (see DESIGN.md for what lives here)."""
