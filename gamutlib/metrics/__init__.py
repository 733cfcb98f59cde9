"""Every number the four papers report, one file per metric: the maths only.

The settings a paper fixed (ERE's top-k and batches of 16, FED's sampling
seed, the faces, the judge) belong to the table that reports the number: a
``TableProtocol`` of ``gamutlib.evaluation`` (its protocol string says how the
number is made), so that each number has one producer.
"""

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
    "acd", "accuracy_generated", "accuracy_real", "au_mse_pcc", "best_threshold",
    "categorical_codes", "ed", "emotion_reconstruction_error", "ere_targets",
    "expression_distance", "fed", "frechet_distance", "frechet_distance_of_features", "gaussian_stats",
    "identity_verification", "inception_score", "inception_score_of_logits",
    "interpolation_path", "l1_error", "landmark_nme", "ms_ssim", "mse_error",
    "nme_per_face", "pair_similarity", "per_class_accuracy", "polar_code_grid", "psnr",
    "reconstruction_quality", "smoothness", "smoothness_score", "square_code_grid",
    "ssim", "verification_accuracy", "verification_roc",
]
