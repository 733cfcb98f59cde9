"""The engine's speed record as the training chapter shows it."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from gamutlib.bench.train import VARIANT_LABELS, VARIANTS, merge_parts  # noqa: E402
from gamutlib.viz.train_speed import ablation_rows, plot_ablation, read_train_speed, speed_table  # noqa: E402


def test_every_variant_has_a_label():
    assert set(VARIANT_LABELS) == set(VARIANTS)


def test_tables_and_plot_from_merged_parts(tmp_path):
    parts = [{"rows": [{"batch": 16, "reference_img_s": 600.0, "engine_img_s": 2400.0, "ratio": 4.0,
                        "engine_no_compile_img_s": 1800.0, "engine_no_compile_ratio": 3.0}], "device": "gpu"},
             {"rows": [{"batch": 16, "reference_img_s": 700.0, "engine_img_s": 2380.0, "ratio": 3.4,
                        "engine_fp32_eager_img_s": 800.0, "engine_fp32_eager_ratio": 1.14}], "device": "gpu"}]
    row = merge_parts(parts)["rows"][0]
    (summary,) = speed_table({"rows": [row]})
    assert summary["reference over parts"] == "600-700" and summary["engine over parts"] == "2380-2400"
    rows = ablation_rows(row)
    assert [r["setting"] for r in rows] == [VARIANT_LABELS[k] for k in ("engine", "engine_no_compile", "engine_fp32_eager")]
    assert rows[2]["x its part's reference"] == 1.14
    fig, ax = plt.subplots()
    plot_ablation(row, ax)
    assert len(ax.patches) == 3
    plt.close(fig)


def test_a_missing_record_names_the_script(tmp_path):
    with pytest.raises(FileNotFoundError, match="bench_train.sh"):
        read_train_speed(tmp_path / "train_speed.json")
