"""dataset_builder (see DESIGN.md for what lives here)."""
