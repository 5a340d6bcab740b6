"""eval_space (see DESIGN.md for what lives here)."""
