"""Reading the GANmut series' run records: the numbers its verdicts are made of.

A run record is one JSON per trained generator, scored by the evaluation's
gpu protocol right after training (the format of
``book/results/ganmut/seeds/<name>-seed<k>.json``: keys ``name``, ``seed``,
``profile``, ``iterations``, ``model``, ``table1`` (smoothness row, or null),
``table2`` (ERE and FED) and ``table3`` (accuracy)). They live in three folders
of ``<record>/ganmut/``:

- ``seeds/<name>-seed<k>.json``: the 10k-iteration schedule, three seeds;
- ``training_length/<name>-it<iterations>.json``: one long run per method,
  scored at several iteration counts;
- ``precision/<name>-fp32-seed<k>.json``: a run trained in fp32.

The paper's numbers are read from the ``paper`` field of the series' tables
(``table1_smoothness.json``, ``table2_ere_fed.json``, ``table3_accuracy.json``),
so they are typed in exactly one place.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any, Mapping

#: The summary metrics of a run record: name -> (table, key). Lower is better
#: for all but accuracy.
#: The chapter that writes the series' tables (recorded in each JSON as its producer).
CHAPTER = "notebooks/ganmut/03_evaluation.py"

METRICS = {
    "accuracy": ("table3", "mean"),
    "fed": ("table2", "fed"),
    "ere_setting1": ("table2", "ere_setting1"),
    "ere_setting2": ("table2", "ere_setting2"),
    "smoothness": ("table1", "mean"),
}
HIGHER_IS_BETTER = {"accuracy"}
#: Generator names of the series and the paper's name for each.
LABELS = {"stargan": "StarGAN", "ganimation": "GANimation", "ganmut": "GANmut", "ganmut_rho1": "GANmut (lambda_rho 1)",
          "gganmut": "GGANmut"}
SEED_RECORD = re.compile(r"^(?P<name>[a-z0-9_]+)-seed(?P<seed>\d+)\.json$")
LENGTH_RECORD = re.compile(r"^(?P<name>[a-z0-9_]+)-it(?P<iterations>\d+)\.json$")
FP32_RECORD = re.compile(r"^(?P<name>[a-z0-9_]+)-fp32-seed(?P<seed>\d+)\.json$")


def metric_value(record: Mapping[str, Any], metric: str) -> float | None:
    """One summary metric of a run record (None where its table has no such number)."""
    table, key = METRICS[metric]
    row = record.get(table) or {}
    value = row.get(key)
    return None if value is None else float(value)


def read_records(folder: str | Path, pattern: re.Pattern[str] = SEED_RECORD, profile: str | None = "gpu") -> list[dict[str, Any]]:
    """Every record in ``folder`` whose file name matches ``pattern`` (and whose
    profile is ``profile``, where given); an absent folder gives []."""
    folder = Path(folder)
    out = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        match = pattern.match(path.name)
        if not match:
            continue
        record = json.loads(path.read_text())
        if profile is not None and record.get("profile") != profile:
            continue
        record.setdefault("name", match.group("name"))
        out.append({**record, "file": path.name})
    return out


def _mean(values: Any) -> float | None:
    values = [float(v) for v in values if v is not None]
    return round(statistics.fmean(values), 4) if values else None


def paper_values(record_dir: str | Path) -> dict[str, dict[str, float | None]]:
    """The paper's summary numbers per method, from the tables' ``paper`` fields:
    {"StarGAN": {"accuracy": mean of Table 3's 7 classes, "fed", "ere_setting1",
    "ere_setting2", "smoothness": mean of Table 1's 6 classes}, ...}. Methods or
    tables the record lacks are left out."""
    folder = Path(record_dir) / "ganmut"
    out: dict[str, dict[str, float | None]] = {}

    def paper(table: str) -> Mapping[str, Any]:
        path = folder / f"{table}.json"
        return json.loads(path.read_text()).get("paper", {}) if path.exists() else {}

    for method, row in paper("table3_accuracy").items():
        if isinstance(row, Mapping) and method != "Real":
            out.setdefault(method, {})["accuracy"] = _mean(row.values())
    for method, row in paper("table2_ere_fed").items():
        if isinstance(row, Mapping) and method != "Real":
            out.setdefault(method, {}).update({k: row.get(k) for k in ("fed", "ere_setting1", "ere_setting2")})
    for method, row in paper("table1_smoothness").items():
        if isinstance(row, Mapping):
            out.setdefault(method, {})["smoothness"] = _mean(row.values())
    return out


def shipped_records(record_dir: str | Path, weights_dir: str | Path, names: Any) -> dict[str, dict[str, Any]]:
    """The run record of each shipped generator in ``names``: the file its
    registry entry names (``"record"``, relative to ``record_dir``: e.g. a long
    run's ``training_length/<name>-it100000.json``), else its 10k seed 0
    (``seeds/<name>-seed0.json``). A name with neither is left out. Each record
    gains ``record_file`` (where it was read) so a table can say which run a
    shipped file is."""
    from gamutlib.weights import read_registry, registry_path

    registry = read_registry(registry_path(weights_dir))
    out = {}
    for name in names:
        named = (registry.get(name) or {}).get("record")
        path = Path(record_dir) / named if named else Path(record_dir) / "ganmut" / "seeds" / f"{name}-seed0.json"
        if named and not path.exists():
            raise FileNotFoundError(f"the registry entry of {name} names its record {named}, not under {record_dir}")
        if path.exists():
            record = json.loads(path.read_text())
            out[name] = {**record, "name": name, "record_file": str(path.relative_to(record_dir))}
    return out


def trained_as(record: Mapping[str, Any]) -> str:
    """How a run record's generator was trained, in words: "100k iterations, run B, seed 0"."""
    run = f", run {record['run_id']}" if record.get("run_id") else ""
    return f"{int(record['iterations']) // 1000}k iterations{run}, seed {record.get('seed', 0)}"
