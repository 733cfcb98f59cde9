"""Evaluation protocols of each paper series, built on gamutlib.metrics.

One module per series (``gamutlib.evaluation.ganmut``): it knows how each
method of the series is conditioned (which code stands for "emotion c", which
grid a search walks) and turns the generic metrics into the paper's tables.
"""
