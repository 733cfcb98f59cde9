"""The built-in face benchmark: FACS faces with exact ground truth.

`sample_identities` picks faces (train and test ids are disjoint),
`emotion_to_aus` turns an emotion mixture into AUs, `render` draws faces with
their 68 landmarks in three styles, and `random_faces` makes a whole batch
with every key of the batch contract (README, "Architecture": images in [-1, 1]
NCHW, AUs 0-5, landmarks in pixels).
"""

from gamutlib.faces.batch import random_faces
from gamutlib.faces.emotion import emotion_prototypes, emotion_to_aus, sample_emotions
from gamutlib.faces.identity import (
    N_TEST_IDENTITIES,
    N_TRAIN_IDENTITIES,
    Identity,
    identities_from_ids,
    sample_identities,
    split_ids,
)
from gamutlib.faces.labels import ANNOTATOR_CONFUSION, confusion_matrix, noisy_label, perceived_class
from gamutlib.faces.render import check_aus, render

__all__ = [
    "ANNOTATOR_CONFUSION",
    "Identity",
    "N_TEST_IDENTITIES",
    "N_TRAIN_IDENTITIES",
    "check_aus",
    "confusion_matrix",
    "emotion_prototypes",
    "emotion_to_aus",
    "identities_from_ids",
    "noisy_label",
    "perceived_class",
    "random_faces",
    "render",
    "sample_emotions",
    "sample_identities",
    "split_ids",
]
