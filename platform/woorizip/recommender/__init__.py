"""The app shell's side of the recommender: CLI commands over the `recsys` library."""
