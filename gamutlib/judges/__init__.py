"""The judges every metric of the study measures with, trained on the benchmark.

- ``EmotionJudge``: GANmut's VGG emotion classifier (FED features, softmax for
  ERE, smoothness, accuracy, IS); trained by ``gamut train judge_emotion``.
- ``AUJudge``: the OpenFace stand-in, 17 AU intensities and 68 landmarks;
  ``gamut train judge_au``.
- ``IdentityJudge``: the LightCNN / face_recognition stand-in, L2-normalised
  embeddings and a verification threshold; ``gamut train judge_identity``.

``load_judges(device)`` loads the shipped three. For real photos there are
adapters to judges that exist offline: ``DlibFaceEmbedder`` (FineGrained's
ACD network) and ``FerEmotionJudge`` (the FER2013 mini-Xception).
"""

from gamutlib.judges.au import AUJudgeConfig, JudgeAU
from gamutlib.judges.dlib_embedding import DlibFaceEmbedder
from gamutlib.judges.emotion import EmotionJudgeConfig, JudgeEmotion
from gamutlib.judges.fer_xception import FerEmotionJudge
from gamutlib.judges.identity import IdentityJudgeConfig, JudgeIdentity, calibrate_threshold
from gamutlib.judges.loading import (
    JUDGE_FILES,
    Judges,
    judge_path,
    load_au_judge,
    load_emotion_judge,
    load_identity_judge,
    load_judges,
)
from gamutlib.judges.networks import AUJudge, EmotionJudge, IdentityJudge

__all__ = [
    "AUJudge", "AUJudgeConfig", "DlibFaceEmbedder", "EmotionJudge", "EmotionJudgeConfig", "FerEmotionJudge",
    "IdentityJudge", "IdentityJudgeConfig", "JUDGE_FILES", "JudgeAU", "JudgeEmotion", "JudgeIdentity", "Judges",
    "calibrate_threshold", "judge_path", "load_au_judge", "load_emotion_judge", "load_identity_judge", "load_judges",
]
