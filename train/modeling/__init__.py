"""Stage 2, modeling: load or build a model, train it (one phase or cross-validation folds), export it."""
