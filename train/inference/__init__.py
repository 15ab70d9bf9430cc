"""Stage 3, inference: label new articles with an exported model (predictor, command line, benchmark)."""
