"""Stage 1, data: read articles, clean and split them, attach gold and weak labels, split by article."""
