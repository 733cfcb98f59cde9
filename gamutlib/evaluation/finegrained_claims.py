"""FineGrained's headline claims, each with its verdict computed from the record.

The claims (Ling et al. 2020, Sec. 4.4-4.5 and the abstract):

- MSF improves ED as k_MSF grows (Table 1: 0.636, 0.609, 0.422, 0.275 for k = 0..3);
- relative AUs improve reconstruction (Table 3) and ED (Table 1, Ours against Ours w/o v_rel);
- ours beats GANimation on IS and ED (Table 1), and in expression similarity (Table 2).

Our numbers per generator are the seed records (``gamut evaluate finegrained
NAME --seed K``, one JSON per training seed: mean ± std over them) or, where
a generator has no record, the chapter's live table (one seed). The verdict
rules are gamutlib.evaluation.claims': an ordering holds only beyond the
seed spread, so a pair with a one-seed generator is not testable, whatever
its point values say (the row's ``ours`` shows them all the same).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gamutlib.evaluation.claims import Estimate, claim_row, estimate, ordering_verdict
from gamutlib.evaluation.finegrained import KMSF_ORDER, LABELS, PAPER_TABLE1, PAPER_TABLE2, PAPER_TABLE3

#: A claim's metric: (seed record key / table, row key).
METRICS = {"is": ("table1", "is"), "acd": ("table1", "acd"), "ed": ("table1", "ed"), "ed_truth": ("table1", "ed_truth"),
           "l1": ("table3", "l1"), "psnr": ("table3", "psnr"), "ssim": ("table3", "ssim"),
           "rating_2": ("table2", "rating_2")}
HIGHER_IS_BETTER = {"is", "psnr", "ssim", "rating_2"}
_PAPER = {"table1": PAPER_TABLE1, "table2": PAPER_TABLE2, "table3": PAPER_TABLE3}


def estimates(seed_records: Iterable[Mapping[str, Any]],
              live_rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, dict[str, Estimate | None]]:
    """{name: {metric: Estimate}}: over the seed records where a generator has
    any, else its row of the live tables (``live_rows``: table key ->
    rows with ``method`` = the paper's label)."""
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for record in seed_records:
        by_name.setdefault(record["name"], []).append(record)
    label_to_name = {label: name for name, label in LABELS.items()}
    live: dict[str, dict[str, Mapping[str, Any]]] = {}
    for table, rows in live_rows.items():
        for row in rows:
            if row.get("method") in label_to_name:
                live.setdefault(label_to_name[row["method"]], {})[table] = row
    out: dict[str, dict[str, Estimate | None]] = {}
    for name in LABELS:
        records = by_name.get(name) or ([live[name]] if name in live else [])
        out[name] = {m: estimate((r.get(t) or {}).get(k) for r in records) for m, (t, k) in METRICS.items()}
    return out


def _paper_value(metric: str, name: str) -> float | None:
    table, key = METRICS[metric]
    return (_PAPER[table].get(LABELS[name]) or {}).get(key)


def _order_row(claim: str, metric: str, pairs: Sequence[tuple[str, str]], est: Mapping[str, Mapping[str, Estimate | None]]) -> dict[str, str]:
    """Claimed: the first of each pair is better. Lower-better metrics compare as they
    are; higher-better ones are compared as (b, a), so the rule's "a < b" reads "a is better"."""
    higher = metric in HIGHER_IS_BETTER
    rule_pairs = [((LABELS[b], est[b][metric], LABELS[a], est[a][metric]) if higher else
                   (LABELS[a], est[a][metric], LABELS[b], est[b][metric])) for a, b in pairs]
    verdict, why = ordering_verdict(rule_pairs)
    names = list(dict.fromkeys(n for p in pairs for n in p))
    paper = ", ".join(f"{LABELS[n]} {_paper_value(metric, n)}" for n in names)
    ours = ", ".join(f"{LABELS[n]} {est[n][metric].text() if est[n][metric] else 'not recorded'}" for n in names)
    direction = "higher" if higher else "lower"
    return claim_row(claim, f"{metric} ({direction} is better): {paper}", ours, verdict, why)


#: (claim, metric, pairs (a, b) claimed "a better than b").
ORDER_CLAIMS = (
    ("Table 1: MSF improves ED as k_MSF grows (k = 3 < 2 < 1 < 0)", "ed",
     tuple(zip(KMSF_ORDER[::-1][:-1], KMSF_ORDER[::-1][1:]))),
    ("Table 3: relative AUs improve reconstruction (L1, ours and GANimation each with against without v_rel)", "l1",
     (("finegrained", "finegrained__absolute"), ("ganimation_au__relative", "ganimation_au"))),
    ("Table 1: relative AUs improve ED (Ours against Ours w/o v_rel)", "ed", (("finegrained", "finegrained__absolute"),)),
    ("Table 1: ours beats GANimation on IS", "is", (("finegrained", "ganimation_au"),)),
    ("Table 1: ours beats GANimation on ED", "ed", (("finegrained", "ganimation_au"),)),
    ("Table 2 (judge-rated stand-in for the human study): ours gets more edits rated 'same expression' (2) than "
     "GANimation", "rating_2", (("finegrained", "ganimation_au"),)),
)


def claim_rows(seed_records: Iterable[Mapping[str, Any]], live_rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, str]]:
    """Every claim's row (claim, paper, ours, verdict, why)."""
    est = estimates(list(seed_records), live_rows)
    return [_order_row(claim, metric, pairs, est) for claim, metric, pairs in ORDER_CLAIMS]


def seed_summary_rows(seed_records: Iterable[Mapping[str, Any]], metrics: Sequence[str] = ("is", "acd", "ed", "ed_truth", "l1", "psnr", "ssim", "rating_2")) -> list[dict[str, Any]]:
    """Per generator with records: its seeds, and mean and sample std of each metric over them (None where unmeasured)."""
    records = list(seed_records)
    est = estimates(records, {})
    rows = []
    for name, label in LABELS.items():
        seeds = sorted(r["seed"] for r in records if r["name"] == name)
        if not seeds:
            continue
        row: dict[str, Any] = {"method": label, "seeds": seeds}
        for m in metrics:
            e = est[name][m]
            row[f"{m}_mean"] = None if e is None else round(e.mean, 4)
            row[f"{m}_std"] = None if e is None or e.std is None else round(e.std, 4)
        rows.append(row)
    return rows


def record_claims(results_dir: Any, seed_profile: str = "gpu") -> list[dict[str, str]]:
    """The claims from the seed records of ``seed_profile`` and the live Tables 1-3
    under ``results_dir``, written to ``<results_dir>/finegrained/claims.json``."""
    from gamutlib.evaluation.claims import write_claims
    from gamutlib.evaluation.finegrained_tables import CHAPTER, TABLE1, TABLE2, TABLE3
    from gamutlib.evaluation.seeds import read_seed_records
    from gamutlib.reproduce.tables import read_table

    records = read_seed_records(results_dir, profile=seed_profile, paper="finegrained")
    live = {t.seed_key: read_table(results_dir, "finegrained", t.name)["rows"] for t in (TABLE1, TABLE2, TABLE3)}
    rows = claim_rows(records, live)
    seeds = sorted({r["seed"] for r in records}) or [0]
    write_claims(results_dir, "finegrained", rows, source="FineGrained (Ling et al., ECCV 2020), Tables 1-3",
                 protocol=f"ours: mean ± std over the seed records ({seed_profile} profile, {len(records)} records; a "
                          "generator without records: its row of this run's tables, one seed); verdicts by "
                          "gamutlib.evaluation.claims.ordering_verdict",
                 seeds=seeds, producer=CHAPTER)
    return rows
