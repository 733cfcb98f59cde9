"""Verdicts per claim, the training-length table and the bf16/fp32 comparison,
on record files written here (never the study's record)."""

import json
import math

import matplotlib
import pytest

matplotlib.use("Agg")

from gamutlib.evaluation.claims import (VERDICTS, Estimate, claim_row, estimate, ordering_verdict, reach_verdict,
                                        threshold_verdict, verdict_counts, write_claims)
from gamutlib.evaluation.ganmut_claims import ORDER_CLAIMS, ganmut_claims, spearman_threshold
from gamutlib.evaluation.ganmut_records import paper_values, read_records
from gamutlib.evaluation.precision import bf16_records, fp32_record, precision_rows
from gamutlib.evaluation.training_length import (paper_numbers, read_training_length, seed0_records,
                                                 training_length_rows)
from gamutlib.reproduce import read_table

PAPER_TABLES = {
    "table1_smoothness": {"source": "t1", "StarGAN": {"happy": 0.6, "sad": 0.4}, "GANmut": {"happy": 0.3, "sad": 0.3}},
    "table2_ere_fed": {"source": "t2", "Real": {"ere_setting1": None, "ere_setting2": None, "fed": 0.2},
                       "StarGAN": {"ere_setting1": 0.04, "ere_setting2": 0.04, "fed": 5.0},
                       "GANimation": {"ere_setting1": 0.036, "ere_setting2": 0.037, "fed": 2.0},
                       "SMIT": {"ere_setting1": 0.03, "ere_setting2": 0.03, "fed": 1.9},
                       "GANmut": {"ere_setting1": 0.025, "ere_setting2": 0.025, "fed": 0.7},
                       "GGANmut": {"ere_setting1": 0.02, "ere_setting2": 0.018, "fed": 18.0}},
    "table3_accuracy": {"source": "t3", "Real": {"neutral": 50.0, "happy": 50.0},
                        "StarGAN": {"neutral": 90.0, "happy": 100.0}, "GANimation": {"neutral": 70.0, "happy": 78.0},
                        "GANmut": {"neutral": 80.0, "happy": 100.0}, "GGANmut": {"neutral": 96.0, "happy": 100.0},
                        "SMIT": {"neutral": 80.0, "happy": 90.0}},
}


def _record(name, seed=0, iterations=10000, smooth=0.3, fed=10.0, ere1=0.02, ere2=0.03, acc=70.0, profile="gpu", **extra):
    return {"name": name, "seed": seed, "profile": profile, "iterations": iterations, "model": {"method": name},
            "table1": None if smooth is None else {"method": name, "mean": smooth},
            "table2": {"method": name, "ere_setting1": ere1, "ere_setting2": ere2, "fed": fed},
            "table3": {"method": name, "mean": acc}, **extra}


def _write(path, record):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))


@pytest.fixture
def record(tmp_path):
    """A record folder with the paper tables and three seeds of four generators."""
    root = tmp_path / "record"
    for table, paper in PAPER_TABLES.items():
        _write(root / "ganmut" / f"{table}.json", {"rows": [], "paper": paper, "protocol": "p", "seeds": [0]})
    numbers = {  # name: (smoothness, fed, ere1, ere2, accuracy) per seed
        "stargan": [(0.50, 5.0, 0.030, 0.030, 90.0), (0.52, 5.2, 0.031, 0.031, 91.0), (0.51, 5.1, 0.032, 0.032, 92.0)],
        "ganimation": [(None, 3.0, 0.035, 0.035, 70.0), (None, 3.1, 0.036, 0.036, 72.0), (None, 3.2, 0.034, 0.034, 74.0)],
        "ganmut": [(0.30, 8.0, 0.020, 0.031, 50.0), (0.31, 8.5, 0.021, 0.029, 55.0), (0.32, 9.0, 0.022, 0.030, 60.0)],
        "gganmut": [(None, 20.0, 0.010, 0.012, 95.0), (None, 21.0, 0.011, 0.013, 97.0), (None, 22.0, 0.012, 0.014, 99.0)],
    }
    for name, seeds in numbers.items():
        for seed, (s, f, e1, e2, a) in enumerate(seeds):
            _write(root / "ganmut" / "seeds" / f"{name}-seed{seed}.json",
                   _record(name, seed, smooth=s, fed=f, ere1=e1, ere2=e2, acc=a, planned_steps=10000))
    _write(root / "ganmut" / "seeds" / "ganmut-seed9.json", _record("ganmut", 9, profile="smoke", fed=1e6))  # ignored
    _write(root / "ganmut" / "seeds" / "notes.json", {"not": "a record"})  # ignored: not a record's name
    return root


def test_estimate_and_claim_row():
    e = estimate([1.0, 2.0, 3.0, None, float("nan")])
    assert (e.mean, e.std, e.n) == (2.0, 1.0, 3)
    assert (e.lo, e.hi) == (1.0, 3.0) and e.text() == "2 ± 1 (3 seeds)"
    assert estimate([None]) is None and estimate([4.0]).std is None
    assert claim_row("c", "p", "o", "holds", "w")["verdict"] == "holds"
    with pytest.raises(ValueError, match="verdict"):
        claim_row("c", "p", "o", "mostly holds", "w")
    with pytest.raises(ValueError, match="why"):
        claim_row("c", "p", "o", "holds", " ")


def test_ordering_needs_separation_beyond_the_spread():
    a, b = Estimate(1.0, 0.1, 3), Estimate(2.0, 0.1, 3)
    assert ordering_verdict([("A", a, "B", b)])[0] == "holds"
    verdict, why = ordering_verdict([("B", b, "A", a)])
    assert verdict == "does not hold" and "B > A beyond the seed spread" in why
    close = Estimate(1.15, 0.1, 3)  # below B's mean but inside the spreads
    verdict, why = ordering_verdict([("A", close, "C", Estimate(1.3, 0.1, 3))])
    assert verdict == "does not hold" and "within the seed spread" in why
    assert ordering_verdict([("A", a, "B", None)]) == ("not testable here", "no record of B")
    assert ordering_verdict([("A", Estimate(1.0, None, 1), "B", b)])[0] == "not testable here"
    # every pair must hold
    assert ordering_verdict([("A", a, "B", b), ("B", b, "A", a)])[0] == "does not hold"


def test_a_one_seed_side_may_borrow_the_other_sides_spread():
    three = Estimate(1.0, 0.1, 3)
    # 1.15 alone lies above 1.0 + 0.1, but with the borrowed 0.1 its interval 1.05-1.25 meets 0.9-1.1
    verdict, why = ordering_verdict([("A", three, "S", Estimate(1.15, None, 1))], borrow_spread=True)
    assert verdict == "does not hold" and "within the seed spread" in why
    assert "S has one seed, judged with A's seed spread" in why
    verdict, why = ordering_verdict([("A", three, "S", Estimate(1.5, None, 1))], borrow_spread=True)
    assert verdict == "holds" and "A < S beyond the seed spread" in why
    verdict, _ = ordering_verdict([("S", Estimate(0.5, None, 1), "A", three)], borrow_spread=True)
    assert verdict == "holds"
    # two one-seed sides have no spread to lend each other
    assert ordering_verdict([("S", Estimate(0.5, None, 1), "T", Estimate(1.5, None, 1))],
                            borrow_spread=True)[0] == "not testable here"


def test_reach_and_threshold():
    assert reach_verdict(Estimate(70.0, 4.0, 3), 74.0)[0] == "holds"  # within one spread of the paper
    verdict, why = reach_verdict(Estimate(45.0, 5.0, 3), 91.0)
    assert verdict == "does not hold" and "46 below the paper's 91" in why and "9.2 seed spreads" in why
    assert reach_verdict(Estimate(0.5, 0.1, 3), 0.45, higher_is_better=False)[0] == "holds"
    assert reach_verdict(None, 90.0)[0] == "not testable here"
    assert threshold_verdict(0.5, 0.44, "r", "rule")[0] == "holds"
    assert threshold_verdict(0.3, 0.44, "r", "rule")[0] == "does not hold"
    assert threshold_verdict(None, 0.44, "r", "rule")[0] == "not testable here"
    # Spearman over 15 pairs: the one-sided 5% critical value (tables: 0.441 for n = 15)
    assert spearman_threshold() == pytest.approx(0.441, abs=0.002)


def test_paper_values_come_from_the_tables(record):
    paper = paper_values(record)
    assert paper["StarGAN"] == {"accuracy": 95.0, "fed": 5.0, "ere_setting1": 0.04, "ere_setting2": 0.04, "smoothness": 0.5}
    assert paper["GANmut"]["smoothness"] == 0.3 and "smoothness" not in paper["GGANmut"]
    assert "Real" not in paper and paper["SMIT"]["accuracy"] == 85.0
    assert paper_values(record / "absent") == {}


def test_ganmut_claims_from_records(record, tmp_path):
    seeds = read_records(record / "ganmut" / "seeds")
    assert len(seeds) == 12  # the smoke record and the stray file are left out
    truth = [{"method": "ganmut", "direction_spearman": 0.6, "rho_intensity_mean_r": 0.95, "compound_mean_share_min": 0.1},
             {"method": "gganmut", "direction_spearman": -0.2, "rho_intensity_mean_r": None, "compound_mean_share_min": 0.3}]
    rows = ganmut_claims(seeds, paper_values(record), truth)
    by_claim = {r["claim"]: r for r in rows}
    assert all(r["verdict"] in VERDICTS for r in rows)
    t1, fed, ere1, ere2 = (by_claim[c] for c, _, _ in ORDER_CLAIMS)
    assert t1["verdict"] == "holds"  # 0.31 ± 0.01 against 0.51 ± 0.01
    assert t1["paper"] == "GANmut 0.3, StarGAN 0.5" and "GANmut 0.31 ± 0.01 (3 seeds)" in t1["ours"]
    assert fed["verdict"] == "does not hold" and "GANmut > StarGAN beyond the seed spread" in fed["why"]
    assert ere1["verdict"] == "holds"
    assert ere2["verdict"] == "does not hold" and "GANmut and StarGAN within the seed spread" in ere2["why"]
    acc = {r["claim"].split(":")[1].split("'s")[0].strip(): r for r in rows if r["claim"].startswith("T3 accuracy")}
    assert acc["StarGAN"]["verdict"] == "does not hold"  # 91 ± 1 < 95
    assert acc["GANimation"]["verdict"] == "holds" and acc["GANimation"]["paper"] == "74.0"  # 72 ± 2 reaches 74
    assert acc["GGANmut"]["verdict"] == "holds"  # 97 ± 2 reaches 98
    assert acc["SMIT"]["verdict"] == "not testable here"
    smit = [r for r in rows if "SMIT" in r["claim"]]
    assert len(smit) == 2 and all("not re-implemented" in r["why"] for r in smit)
    gamut = {r["claim"]: r["verdict"] for r in rows if r["claim"].startswith("Gamut")}
    assert list(gamut.values()) == ["holds", "holds", "does not hold", "does not hold", "not testable here", "holds"]
    # without records every claim about our numbers is not testable
    empty = ganmut_claims([], paper_values(record))
    assert {r["verdict"] for r in empty} == {"not testable here"}
    path = write_claims(tmp_path / "out", "ganmut", rows, source="GANmut", protocol="fixture", seeds=[0, 1, 2],
                        producer="notebooks/ganmut/03_evaluation.py")
    table = read_table(tmp_path / "out", "ganmut", "claims")
    assert path.exists() and table["rows"] == rows and "tolerance" not in table
    assert sum(verdict_counts(rows).values()) == len(rows)
    with pytest.raises(ValueError, match="columns"):
        write_claims(tmp_path / "out", "ganmut", [{**rows[0], "extra": 1}], source="s", protocol="p", seeds=[0], producer="p")


def test_claims_add_what_longer_runs_show(record):
    long = [_record("ganmut", iterations=it, smooth=s, planned_steps=100000) for it, s in ((10000, 0.6), (100000, 0.4))]
    long += [_record("stargan", iterations=it, smooth=0.5, planned_steps=100000) for it in (10000, 100000)]
    rows = ganmut_claims(read_records(record / "ganmut" / "seeds"), paper_values(record), long_records=long)
    t1 = rows[0]
    assert t1["verdict"] == "holds"  # the verdict stays the seeds'
    assert "GANmut - StarGAN: +0.1 at 10k, -0.1 at 100k (ordering as the paper's at 100k, end of its run, LR decayed)" in t1["why"]
    fed = rows[1]
    assert "GANmut vs GANimation: no longer run of GANimation" in fed["why"]


def test_training_length_rows_and_absent_folder(record, tmp_path):
    assert read_training_length(record) == []  # the folder is absent
    folder = record / "ganmut" / "training_length"
    for name in ("gganmut", "stargan"):
        for it in (30000, 10000, 100000):
            _write(folder / f"{name}-it{it}.json", _record(name, iterations=it, acc=it / 2000, planned_steps=100000))
    _write(folder / "stargan-it5.json", _record("stargan", iterations=5, profile="smoke"))  # ignored: smoke
    long = read_training_length(record)
    assert [(r["name"], r["iterations"]) for r in long] == [("gganmut", 10000), ("gganmut", 30000), ("gganmut", 100000),
                                                           ("stargan", 10000), ("stargan", 30000), ("stargan", 100000)]
    rows = training_length_rows(long, seed0_records(record))
    assert [r["method"] for r in rows] == ["StarGAN"] * 4 + ["GGANmut"] * 4
    assert rows[0]["run"].startswith("10k schedule, end (LR decayed") and rows[0]["accuracy"] == 90.0
    assert rows[1]["run"] == "100k run, mid-run (LR not decayed, seed 0)" and rows[1]["accuracy"] == 5.0
    assert rows[3]["run"] == "100k run, end (LR decayed to 0, seed 0)" and rows[3]["iterations"] == 100000
    assert rows[4]["smoothness"] is None  # GGANmut has no Table 1
    assert set(rows[0]) == {"method", "iterations", "run", "accuracy", "fed", "ere_setting1", "ere_setting2", "smoothness"}
    paper = paper_numbers(paper_values(record))
    assert paper["GGANmut"]["iterations"] == 1_800_000 and paper["StarGAN"]["accuracy"] == 95.0
    from gamutlib.viz.training_length import plot_training_length

    fig = plot_training_length(rows, paper)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 5 and all(ax.get_xscale() == "log" for ax in panels)
    acc_ax = panels[0]
    assert sorted(line.get_ydata()[0] for line in acc_ax.lines if line.get_linestyle() == "--") == [95.0, 98.0]
    _write(folder / "ganmut-it20000.json", _record("ganmut", iterations=30000))
    with pytest.raises(ValueError, match="iterations"):
        read_training_length(record)


def test_precision_rows(record):
    assert fp32_record(record) is None  # not recorded yet
    _write(record / "ganmut" / "precision" / "ganmut-fp32-seed0.json",
           _record("ganmut", smooth=0.33, fed=20.0, ere1=0.020, ere2=0.032, acc=None, planned_steps=10000))
    fp32 = fp32_record(record)
    rows = precision_rows(fp32, bf16_records(record))
    by = {r["metric"]: r for r in rows}
    assert by["smoothness"]["difference"] == pytest.approx(0.03) and by["smoothness"]["bf16_seed_std"] == pytest.approx(0.01)
    assert by["smoothness"]["verdict"] == "does not hold"  # 3 spreads
    assert by["ere_setting2"]["verdict"] == "holds" and by["ere_setting2"]["difference_in_std"] == pytest.approx(1.0)
    assert by["fed"]["verdict"] == "does not hold" and math.isclose(by["fed"]["bf16"], 8.0)
    assert by["accuracy"]["verdict"] == "not testable here"
    other = {**fp32, "iterations": 5000}
    assert {r["verdict"] for r in precision_rows(other, bf16_records(record)) if r["metric"] != "accuracy"} == {"not testable here"}
    with pytest.raises(ValueError, match="seed 3"):
        precision_rows({**fp32, "seed": 3}, bf16_records(record))


def test_training_length_verdicts():
    from gamutlib.evaluation.training_length import training_length_verdicts

    rows = [{"method": "GANmut", "iterations": 10000, "run": "10k schedule, end (LR decayed to 0; seed 0 of the 10k study)",
             "accuracy": 99.0, "fed": 1.0, "ere_setting1": None, "ere_setting2": None, "smoothness": 0.3},
            {"method": "GANmut", "iterations": 10000, "run": "100k run, mid-run", "accuracy": 40.0, "fed": 40.0,
             "ere_setting1": None, "ere_setting2": None, "smoothness": 0.3},
            {"method": "GANmut", "iterations": 100000, "run": "100k run, end", "accuracy": 80.0, "fed": 0.5,
             "ere_setting1": None, "ere_setting2": None, "smoothness": 0.4}]
    paper = {"GANmut": {"accuracy": 90.0, "fed": 0.7, "ere_setting1": 0.025, "ere_setting2": None, "smoothness": 0.36}}
    out = {r["claim"].split(", ")[1].split(":")[0]: r for r in training_length_verdicts(rows, paper)}
    assert out["accuracy"]["verdict"] == "does not hold" and "shortfall went 50 -> 10 (+80% of it closed)" in out["accuracy"]["why"]
    assert out["accuracy"]["ours"] == "40 at 10k -> 80 at 100k"  # the shipped 10k point is not the long run's start
    assert out["fed"]["verdict"] == "holds"
    assert out["smoothness"]["verdict"] == "does not hold" and "already at the paper's value at 10k" in out["smoothness"]["why"]
    assert "the shortfall went 39.3 -> -0.2 (+101% of it closed)" in out["fed"]["why"]  # beyond the paper: over 100%
    assert out["ere_setting1"]["verdict"] == out["ere_setting2"]["verdict"] == "not testable here"


def test_chapter_writers_on_a_record(record, tmp_path):
    """What the evaluation chapter calls: nothing written while a record is absent, the tables once it exists."""
    from gamutlib.evaluation.ganmut_claims import record_claims
    from gamutlib.evaluation.precision import record_precision
    from gamutlib.evaluation.training_length import record_training_length

    out = tmp_path / "out"
    assert record_training_length(record, out) is None and record_precision(record, out) is None
    assert not (out / "ganmut" / "training_length.json").exists()
    assert not (out / "ganmut" / "precision_bf16_vs_fp32.json").exists()
    rows = record_claims(record, out)
    assert read_table(out, "ganmut", "claims")["rows"] == rows and read_table(out, "ganmut", "claims")["seeds"] == [0, 1, 2]
    assert not any("longer runs" in r["why"] for r in rows) and not any(r["claim"].startswith("Gamut") and
                                                                        r["verdict"] != "not testable here" for r in rows)
    _write(record / "ganmut" / "gamut_vs_truth.json", {"rows": [
        {"method": "ganmut", "direction_spearman": 0.5, "rho_intensity_mean_r": 0.7, "compound_mean_share_min": 0.2}],
        "paper": {}, "protocol": "p", "seeds": [0]})
    for it in (10000, 100000):
        for name in ("stargan", "ganmut"):
            _write(record / "ganmut" / "training_length" / f"{name}-it{it}.json",
                   _record(name, iterations=it, planned_steps=100000, smooth=0.4 if name == "ganmut" else 0.5))
    _write(record / "ganmut" / "precision" / "ganmut-fp32-seed0.json", _record("ganmut", smooth=0.30, planned_steps=10000))
    rows = record_claims(record, out)
    assert "longer runs, one seed: GANmut - StarGAN: -0.1 at 10k, -0.1 at 100k" in rows[0]["why"]
    assert [r["verdict"] for r in rows if r["claim"].startswith("Gamut, GANmut")] == ["holds", "does not hold", "does not hold"]
    length = record_training_length(record, out)
    table = read_table(out, "ganmut", "training_length")
    assert table["rows"] == length and len(length) == 6 and table["paper"]["GANmut"]["smoothness"] == 0.3
    assert "mid-run" in table["protocol"]
    precision = record_precision(record, out)
    table = read_table(out, "ganmut", "precision_bf16_vs_fp32")
    assert table["rows"] == precision and [r["metric"] for r in precision] == ["accuracy", "fed", "ere_setting1",
                                                                             "ere_setting2", "smoothness"]
    assert "seed 0 in fp32" in table["protocol"] and table["seeds"] == [0, 1, 2]


def test_training_length_reading_follows_the_rows():
    from gamutlib.evaluation.training_length import describe_training_length

    def row(method, it, fed, run="65k run, end (LR decayed to 0, seed 0)"):
        return {"method": method, "iterations": it, "run": run, "accuracy": None, "fed": fed,
                "ere_setting1": None, "ere_setting2": None, "smoothness": None}

    rows = [row("StarGAN", 10000, 12.0, "10k schedule, end (LR decayed to 0; seed 0 of the 10k study)"),
            row("StarGAN", 10000, 11.0, "65k run, mid-run"), row("StarGAN", 65000, 5.0),
            row("GANmut", 10000, 40.0, "65k run, mid-run"), row("GANmut", 65000, 9.0)]
    paper = {"StarGAN": {"fed": 4.89}, "GANmut": {"fed": 0.71}}
    text = describe_training_length(rows, paper)
    assert "StarGAN 11 at 10k -> 5 at 65k (paper 4.89)" in text  # the shipped 10k row is not a long-run point
    assert "GANmut < StarGAN does not hold" in text
    rows[-1] = row("GANmut", 65000, 3.0)
    assert "GANmut < StarGAN holds" in describe_training_length(rows, paper)
    assert "Accuracy" not in text  # no number, no line


def test_two_long_runs_of_one_method_stay_apart(record):
    """A run stopped mid-schedule (A) and one that completed it (B): each point
    names its run, orderings pair points of one run only, the plot draws a
    line per run."""
    from gamutlib.evaluation.ganmut_claims import longer_runs_ordering, longer_runs_value
    from gamutlib.evaluation.training_length import run_of
    from gamutlib.viz.training_length import plot_training_length

    folder = record / "ganmut" / "training_length"
    for name, smooth in (("stargan", 0.5), ("ganmut", 0.4)):
        _write(folder / f"{name}-it10000.json", _record(name, iterations=10000, smooth=smooth, planned_steps=100000, run_id="A"))
        _write(folder / f"{name}-it100000.json", _record(name, iterations=100000, smooth=smooth - 0.1, planned_steps=100000,
                                                          run_id="B"))
    _write(folder / "stargan-it41000.json", _record("stargan", iterations=41000, planned_steps=100000, run_id="A"))
    long = read_training_length(record)
    rows = training_length_rows(long, seed0_records(record))
    assert [r["run"] for r in rows if r["method"] == "GANmut"][1:] == [
        "run A: 100k run, mid-run (LR not decayed, seed 0)", "run B: 100k run, end (LR decayed to 0, seed 0)"]
    assert [run_of(r) for r in rows if r["method"] == "StarGAN"] == ["", "A", "A", "B"]
    text = longer_runs_ordering(long, "smoothness", [("ganmut", "stargan")])
    assert "-0.1 at 10k (run A), -0.1 at 100k (run B)" in text and "41k" not in text  # GANmut has no 41k point
    assert longer_runs_value(long, "accuracy", "ganmut").startswith("longer runs, one seed: 70 at 10k (run A), 70 at 100k (run B)")
    # a point of another run at the same iteration count is not paired
    other = [dict(r, run_id="C") if r["name"] == "stargan" else r for r in long]
    assert "no common iteration count" in longer_runs_ordering(other, "smoothness", [("ganmut", "stargan")])
    fig = plot_training_length(rows, paper_numbers(paper_values(record)))
    acc_ax = [ax for ax in fig.axes if ax.get_title()][0]
    markers = sorted({line.get_marker() for line in acc_ax.lines if line.get_linestyle() == "-"})
    assert markers == ["D", "o"]  # a line per run: circles for run A, diamonds for run B
    assert "run B" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_shipped_records_follow_the_registry(tmp_path):
    """A shipped file's run record is the one its registry entry names (a long
    run's), else seed 0 of the 10k study; a named record that is missing is an error."""
    from gamutlib.evaluation.ganmut_records import shipped_records, trained_as

    results = tmp_path / "results"
    _write(results / "ganmut" / "training_length" / "ganmut-it100000.json",
           {"name": "ganmut", "seed": 0, "iterations": 100000, "run_id": "B", "profile": "gpu"})
    _write(results / "ganmut" / "seeds" / "ganmut-seed0.json", {"name": "ganmut", "seed": 0, "iterations": 10000, "profile": "gpu"})
    _write(results / "ganmut" / "seeds" / "ganimation-seed0.json",
           {"name": "ganimation", "seed": 0, "iterations": 10000, "profile": "gpu"})
    weights = tmp_path / "w"
    _write(weights / "registry.json", {"ganmut": {"sha256": "x", "record": "ganmut/training_length/ganmut-it100000.json"},
                                       "ganimation": {"sha256": "y"}})
    got = shipped_records(results, weights, ["ganmut", "ganimation", "stargan"])
    assert sorted(got) == ["ganimation", "ganmut"]  # stargan has no record at all: left out
    assert got["ganmut"]["iterations"] == 100000 and got["ganmut"]["record_file"] == "ganmut/training_length/ganmut-it100000.json"
    assert trained_as(got["ganmut"]) == "100k iterations, run B, seed 0"
    assert trained_as(got["ganimation"]) == "10k iterations, seed 0"
    _write(weights / "registry.json", {"ganmut": {"record": "ganmut/training_length/ganmut-it5.json"}})
    with pytest.raises(FileNotFoundError, match="names its record"):
        shipped_records(results, weights, ["ganmut"])


def test_gamut_claims_name_the_run_they_measured(record):
    truth = [{"method": "ganmut", "trained": "100k iterations, run B, seed 0", "direction_spearman": 0.6,
              "rho_intensity_mean_r": 0.95, "compound_mean_share_min": 0.3}]
    rows = [r for r in ganmut_claims(read_records(record / "ganmut" / "seeds"), paper_values(record), truth)
            if r["claim"].startswith("Gamut, GANmut")]
    assert len(rows) == 3 and all("the shipped generator, 100k iterations, run B, seed 0 only" in r["why"] for r in rows)
