"""Every number the four papers report, one file per metric, one registry.

``compute_metric(name, **inputs)`` runs a registered protocol (its name says
how the number is made: ``ere_setting1``, ``fed_test``, ``au_mse_pcc_truth``);
``list_metrics()`` names them all. The plain functions are importable for
other settings.
"""

from gamutlib.metrics import (  # noqa: F401  (imported to register their protocols)
    accuracy,
    au_error,
    content_distance,
    ere,
    expression_distance,
    frechet,
    image_similarity,
    inception_score,
    inference_time,
    landmark_error,
    smoothness,
    verification,
)
from gamutlib.metrics.accuracy import accuracy_generated, accuracy_real, per_class_accuracy
from gamutlib.metrics.au_error import au_mse_pcc
from gamutlib.metrics.content_distance import acd
from gamutlib.metrics.ere import (
    categorical_codes,
    emotion_reconstruction_error,
    ere_targets,
    polar_code_grid,
    square_code_grid,
)
from gamutlib.metrics.expression_distance import ed, expression_distance
from gamutlib.metrics.frechet import fed, frechet_distance, frechet_distance_of_features, gaussian_stats
from gamutlib.metrics.image_similarity import reconstruction_quality
from gamutlib.metrics.inception_score import inception_score, inception_score_of_logits
from gamutlib.metrics.landmark_error import landmark_nme, nme_per_face
from gamutlib.metrics.pixel_error import l1_error, mse_error
from gamutlib.metrics.psnr import psnr
from gamutlib.metrics.registry import MetricSpec, compute_metric, get_metric, list_metrics, register_metric
from gamutlib.metrics.smoothness import interpolation_path, smoothness, smoothness_score
from gamutlib.metrics.ssim import ms_ssim, ssim
from gamutlib.metrics.verification import (
    best_threshold,
    identity_verification,
    pair_similarity,
    verification_accuracy,
    verification_roc,
)

__all__ = [
    "MetricSpec", "acd", "accuracy_generated", "accuracy_real", "au_mse_pcc", "best_threshold",
    "categorical_codes", "compute_metric", "ed", "emotion_reconstruction_error", "ere_targets",
    "expression_distance", "fed", "frechet_distance", "frechet_distance_of_features", "gaussian_stats",
    "get_metric", "identity_verification", "inception_score", "inception_score_of_logits",
    "interpolation_path", "l1_error", "landmark_nme", "list_metrics", "ms_ssim", "mse_error",
    "nme_per_face", "pair_similarity", "per_class_accuracy", "polar_code_grid", "psnr",
    "reconstruction_quality", "register_metric", "smoothness", "smoothness_score", "square_code_grid",
    "ssim", "verification_accuracy", "verification_roc",
]
