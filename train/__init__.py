"""kalimat: label every sentence of an Indonesian news article as claim, quote, opinion or background."""

__version__ = "0.1.0"
