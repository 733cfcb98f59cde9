"""Evaluation: the tables of each paper series, built on gamutlib.metrics.

- ``generators``: a trained generator with its conditioning, loading (with the
  smoke fallback), test faces, the real faces' features shared by FED;
- ``protocol``: ``TableProtocol`` (one object per table, its one producer) and
  ``EvaluationRun``;
- one pair of modules per paper: ``ganmut`` (how each method of the series is
  conditioned, its metrics and the gamut-against-truth measures) and
  ``ganmut_tables`` (its tables as protocol objects);
- ``seeds`` (training seeds scored where they trained), ``training_record``
  (a series' logs and the exact-resume demo), ``benchmark_truth`` (the face
  benchmark against its ground truth).
"""
