"""The judge report: a judge that reads the truth scores perfectly, and the
report of briefly trained judges has every key in range."""

from __future__ import annotations

import math

import torch

from gamutlib.constants import EMOTIONS
from gamutlib.faces import perceived_class
from gamutlib.judges.report import ReportSettings, au_report, emotion_report, held_out_au_faces, held_out_faces, judge_report, smoke_judges


class Oracle:
    """Stands in for a judge: returns the truth of the faces, batch by batch, in order."""

    def __init__(self, truth: torch.Tensor) -> None:
        self.truth, self.at = truth, 0

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        out = self.truth[self.at : self.at + len(images)]
        self.at += len(images)
        return out


def test_an_au_judge_that_reads_the_truth_has_zero_error_and_full_correlation():
    faces = held_out_au_faces(24, 32, "photo", seed=0, device="cpu")
    judge = type("AUOracle", (), {})()
    judge.aus = Oracle(faces["aus"])
    judge.landmarks = Oracle(faces["landmarks"])
    report = au_report(judge, faces, batch_size=8)
    assert report["au_mae"] == 0.0
    assert report["landmark_nme"] == 0.0
    assert report["au_pcc"] > 0.999


def test_an_emotion_judge_that_reads_the_perceived_class_is_fully_accurate():
    faces = held_out_faces(40, 32, "photo", seed=1, device="cpu")
    onehot = torch.nn.functional.one_hot(perceived_class(faces["emotion"], faces["intensity"]), len(EMOTIONS)).float()
    judge = type("EmotionOracle", (), {})()
    judge.probs = Oracle(onehot)
    report = emotion_report(judge, faces, batch_size=16)
    assert report["acc_all"] == 100.0
    assert report["ece"] < 1e-6


def test_report_of_briefly_trained_judges_has_every_headline_in_range():
    emotion, au, identity = smoke_judges(size=32, width=8, steps=3)
    settings = ReportSettings(n_faces=16, n_pairs=8, batch_size=16, styles=("photo",))
    report = judge_report(emotion, au, identity, settings)
    prototypes = report["emotion_acc_prototypes"]  # NaN when no face of the 16 is a clear prototype
    assert math.isnan(prototypes) or 0 <= prototypes <= 100
    assert report["au_mae"] >= 0 and -1 <= report["au_pcc"] <= 1
    assert 0 <= report["verification_acc"] <= 100
    assert set(report["passes"]) == {"emotion_acc_prototypes", "au_mae", "au_pcc", "verification_acc"}
    au_row = next(row for row in report["rows"] if row["judge"] == "au")
    assert {"au_mae_emotional_faces", "au_pcc_emotional_faces"} <= set(au_row)
