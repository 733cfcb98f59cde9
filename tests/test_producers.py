"""Every JSON under book/results/ names its producer, and that producer writes it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gamutlib.cli import main
from gamutlib.reproduce.producers import producer_of, recorded_producer

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "book" / "results"


def command_exists(words: list[str]) -> bool:
    command: click.Command | None = main
    with click.Context(main) as ctx:
        for word in words:
            if not isinstance(command, click.Group):
                return False
            command = command.get_command(ctx, word)
            if command is None:
                return False
    return True


def producer_problems(results: Path, repo: Path) -> list[str]:
    """One line per JSON whose producer is missing, does not exist, or does not write it."""
    problems = []
    for path in sorted(results.rglob("*.json")):
        relative = path.relative_to(results).as_posix()
        producer = producer_of(path, results)
        if producer is None:
            problems.append(f"{relative}: names no producer and none is recorded")
            continue
        if producer.startswith("gamut "):
            if not command_exists(producer.split()[1:]):
                problems.append(f"{relative}: `{producer}` is no gamut command")
                continue
        elif not (repo / producer).is_file():
            problems.append(f"{relative}: producer {producer} does not exist")
            continue
        entry = recorded_producer(relative)
        if entry is None and producer.startswith("gamut "):
            problems.append(f"{relative}: `{producer}` has no entry in gamutlib.reproduce.producers saying where it writes")
            continue
        if entry is None:  # a table that names its producer and has no entry: the producer holds its name
            if path.stem not in (repo / producer).read_text():
                problems.append(f"{relative}: {producer} never mentions {path.stem}")
            continue
        if entry.producer != producer:
            problems.append(f"{relative}: names {producer}, the record says {entry.producer}")
        evidence = repo / entry.evidence
        if not evidence.is_file() or entry.token not in evidence.read_text():
            problems.append(f"{relative}: {entry.evidence} does not write it (no {entry.token!r})")
        elif not producer.startswith("gamut ") and entry.evidence != producer:
            if Path(entry.evidence).stem not in (repo / producer).read_text():
                problems.append(f"{relative}: {producer} does not call {entry.evidence}")
    return problems


def test_every_record_json_has_a_producer_that_writes_it():
    assert sorted(RESULTS.rglob("*.json")), "no record found"
    assert producer_problems(RESULTS, ROOT) == []


def test_a_file_whose_producer_is_gone_or_silent_fails(tmp_path):
    results = tmp_path / "results"
    (results / "ganmut").mkdir(parents=True)
    (results / "ganmut" / "made_by_hand.json").write_text(json.dumps({"rows": [{"a": 1}]}))
    (results / "ganmut" / "ghost.json").write_text(json.dumps({"rows": [], "producer": "notebooks/ganmut/99_gone.py"}))
    (results / "ganmut" / "silent.json").write_text(json.dumps({"rows": [], "producer": "notebooks/ganmut/02_training.py"}))
    (results / "ganmut" / "no_command.json").write_text(json.dumps({"rows": [], "producer": "gamut bench nothing"}))
    problems = producer_problems(results, ROOT)
    assert any("made_by_hand.json: names no producer" in p for p in problems)
    assert any("ghost.json: producer notebooks/ganmut/99_gone.py does not exist" in p for p in problems)
    assert any("silent.json: notebooks/ganmut/02_training.py never mentions silent" in p for p in problems)
    assert any("no_command.json: `gamut bench nothing` is no gamut command" in p for p in problems)
    assert len(problems) == 4
