"""The leaderboard Space (`app.py`, `leaderboard_data.py`) and the `codereps leaderboard` command (`cli.py`)."""
