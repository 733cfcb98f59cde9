"""The judge report: a judge that reads the truth scores perfectly, the
report of briefly trained judges has every key in range, and the cpu-protocol
table is one protocol on every device, compared within its tolerance."""

from __future__ import annotations

import copy
import math

import pytest
import torch

import gamutlib.judges.report as report_module
from gamutlib.constants import EMOTIONS
from gamutlib.faces import perceived_class
from gamutlib.judges.report import (
    CPU_PROTOCOL_TABLE,
    CPU_PROTOCOL_TOLERANCE,
    PROFILE_SETTINGS,
    ReportSettings,
    au_report,
    cpu_protocol_report,
    cpu_protocol_table,
    emotion_report,
    held_out_au_faces,
    held_out_faces,
    judge_report,
    report_protocol,
    smoke_judges,
    write_cpu_protocol_table,
)
from gamutlib.reproduce.compare import compare_table
from gamutlib.reproduce.tables import read_table


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


@pytest.fixture(scope="module")
def small_report():
    """A real report of briefly trained judges on a few faces (numbers of no quality, every key)."""
    torch.manual_seed(0)
    emotion, au, identity = smoke_judges(size=32, width=8, steps=3)
    settings = ReportSettings(n_faces=16, n_pairs=8, batch_size=16, styles=("photo", "sketch"))
    return (emotion, au, identity), judge_report(emotion, au, identity, settings)


def test_cpu_protocol_table_is_the_same_on_the_cpu_and_the_gpu_profile(small_report, monkeypatch):
    judges, measured = small_report
    calls = []

    def spy(emotion, au, identity, settings, device="cpu", weights="shipped"):
        calls.append((settings, device, weights))
        return measured  # what the GPU would measure on the cpu settings: the same faces, the same protocol

    monkeypatch.setattr(report_module, "judge_report", spy)
    on_cpu = cpu_protocol_report(*judges, "cpu", measured, "cpu", "shipped")
    assert on_cpu is measured and not calls  # the cpu profile's report is already the cpu protocol
    on_gpu = cpu_protocol_report(*judges, "gpu", {"protocol": "the 5000-face report"}, "cuda", "shipped")
    assert calls == [(PROFILE_SETTINGS["cpu"], "cuda", "shipped")]
    cpu_table, gpu_table = cpu_protocol_table(on_cpu), cpu_protocol_table(on_gpu)
    assert cpu_table["protocol"] == gpu_table["protocol"]
    assert cpu_table["tolerance"] == CPU_PROTOCOL_TOLERANCE
    assert cpu_protocol_report(*judges, "smoke", measured, "cpu", "shipped") is None


def test_report_protocol_names_the_settings_not_the_device():
    settings = PROFILE_SETTINGS["cpu"]
    text = report_protocol(settings, 128, "shipped")
    assert f"{settings.n_faces} faces" in text and "cuda" not in text and "cpu" not in text
    assert text != report_protocol(PROFILE_SETTINGS["gpu"], 128, "shipped")


def test_compare_agrees_with_itself_and_not_with_a_number_beyond_its_tolerance(small_report, tmp_path):
    _, measured = small_report
    path = write_cpu_protocol_table(measured, tmp_path)
    assert path == tmp_path / "judges" / f"{CPU_PROTOCOL_TABLE}.json"
    table = read_table(tmp_path, "judges", CPU_PROTOCOL_TABLE)
    assert compare_table(CPU_PROTOCOL_TABLE, table, table).state == "agrees"
    for row in table["rows"]:  # a column undefined on 16 faces (null) gets a number to move
        row.update({k: 50.0 for k, v in row.items() if v is None})

    def moved(judge, column, by):
        other = copy.deepcopy(table)
        row = next(r for r in other["rows"] if r["judge"] == judge)
        row[column] += by
        return compare_table(CPU_PROTOCOL_TABLE, other, table).state

    assert moved("emotion", "acc_all", 0.4) == "agrees"  # inside abs 0.5 (percent)
    assert moved("emotion", "acc_all", 0.6) == "disagrees"
    assert moved("emotion", "acc_prototypes", 0.9) == "agrees"  # a subgroup: abs 1.0
    assert moved("emotion", "acc_prototypes", 1.5) == "disagrees"
    assert moved("au", "au_mae", 0.004) == "agrees"
    assert moved("au", "au_mae", 0.09) == "disagrees"  # what another AU judge did
    assert moved("au", "au_pcc", 0.01) == "disagrees"
    assert moved("identity", "verification_acc", 0.6) == "disagrees"
    assert moved("emotion", "n_prototypes", 1) == "disagrees"  # the faces' truth is exact


def test_report_sizes_come_from_the_one_profile_owner():
    from gamutlib.judges.report import settings_for

    assert settings_for("cpu") == PROFILE_SETTINGS["cpu"]
    with pytest.raises(ValueError, match="unknown profile 'laptop'"):
        settings_for("laptop")
