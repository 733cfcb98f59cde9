"""`gamut bench metrics` on the smoke profile: the chapter's test set and the
stand-in GANmut are timed, and the table has the record's keys."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from gamutlib.cli import main
from gamutlib.evaluation import ganmut as ev
from gamutlib.bench.metrics import TARGET_S
from gamutlib.judges import judge_path

pytestmark = pytest.mark.skipif(not judge_path("emotion").exists(), reason="the shipped emotion judge is absent")


@pytest.mark.filterwarnings("ignore:Matrix is singular")  # FED of 8 faces: the chapter's smoke FED is as singular
def test_smoke_profile_with_the_fallback_generator_writes_finite_timings(tmp_path):
    out = tmp_path / "results" / "judges" / "metric_speed.json"
    empty_weights = tmp_path / "weights"  # no ganmut.safetensors here: the two-step stand-in is trained
    empty_weights.mkdir()
    result = CliRunner().invoke(main, ["bench", "metrics", "--profile", "smoke", "--device", "cpu", "--allow-fallback",
                                       "--weights-dir", str(empty_weights), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = json.loads(out.read_text())
    assert {"rows", "paper", "protocol", "seeds"} <= set(table) and "tolerance" not in table
    rows = {row["metric"]: row for row in table["rows"]}
    sizes = ev.sizes_for("smoke")
    assert rows["ERE (settings 1+2)"]["faces"] == sizes.n_faces
    assert rows["FED"]["faces"] == sizes.n_fed == rows["FED (Real halves)"]["faces"]
    assert rows["ERE+FED"]["faces"] == max(sizes.n_faces, sizes.n_fed, sizes.n_smooth_faces)
    for row in table["rows"]:
        for key in ("seconds", "seconds_second_call"):
            assert math.isfinite(row[key]) and row[key] > 0
        assert row["profile"] == "smoke"
    parts = sum(rows[m]["seconds"] for m in ("ERE (settings 1+2)", "FED", "FED (Real halves)"))
    assert rows["ERE+FED"]["seconds"] == pytest.approx(parts, abs=0.01)
    assert rows["ERE+FED"]["target_s"] == TARGET_S
    assert rows["ERE+FED"]["meets_target"] == (rows["ERE+FED"]["seconds"] <= TARGET_S)
    assert "tiny fallback" in table["protocol"]


def test_without_fallback_a_missing_generator_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(main, ["bench", "metrics", "--profile", "smoke", "--device", "cpu",
                                       "--weights-dir", str(tmp_path), "--out", str(tmp_path / "r" / "j" / "m.json")])
    assert result.exit_code != 0
    assert "ganmut.safetensors is missing" in result.output
