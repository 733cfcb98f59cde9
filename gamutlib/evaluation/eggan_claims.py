"""EGGAN's claims, each with its verdict computed from the record.

The claims (Tang et al., ICASSP 2021, Sec. 4.2-4.4):

- Table 1: EGGAN's AU intensities follow the target better than HGAN's and
  StarGAN's: lower MSE, higher PCC (averaged over the 17 AUs); measured as
  the paper does (the AU judge on both sides) and, what the paper could not
  do, against the AUs the targets were rendered with;
- Table 2: EGGAN preserves identity better than both (verification accuracy);
- Fig. 3: Eq. 8 gives continuous intermediate expressions (the judged
  progress along alpha follows alpha);
- Fig. 4: removing L_per, L_id or MS-SSIM degrades the result (artifacts,
  identity, expression).

Our numbers are the seed records (``gamut evaluate eggan NAME --seed K`` on
the GPU, mean ± std over the training seeds) and one-seed ablation records.
StarGAN is the GANmut series' shipped generator only (one run), measured live by the
chapter (its other seeds are that series' results, not shipped files): an
ordering against it judges that one seed with the other method's seed spread
(``ordering_verdict(borrow_spread=True)``), as the one-seed ablations are
judged against the full EGGAN's, and ``why`` says so.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from gamutlib.evaluation.claims import Estimate, claim_row, estimate, ordering_verdict, threshold_verdict

LABELS = {"hgan": "HGAN", "stargan": "SGAN", "eggan": "EGAN"}

#: (claim, paper's numbers, metric "table.column", pairs (a, b) claimed a < b)
ORDER_CLAIMS = (
    ("T1 MSE: EGGAN's AU intensities are closer to the target's than HGAN's and StarGAN's (mean MSE over 17 AUs, "
     "AU judge on both sides as the paper's OpenFace; lower is better)",
     "EGAN 0.24 < HGAN 0.41, SGAN 0.60", "table1.mse_avg", (("eggan", "hgan"), ("eggan", "stargan"))),
    ("T1 PCC: EGGAN's AU intensities correlate better with the target's (mean PCC over 17 AUs; higher is better)",
     "EGAN 0.66 > HGAN 0.65, SGAN 0.30", "table1.pcc_avg", (("hgan", "eggan"), ("stargan", "eggan"))),
    ("T1 MSE against the exact target AUs (the renderer's, not a judge's reading of the target)",
     "not measurable in the paper (no ground truth)", "table1.truth_mse_avg", (("eggan", "hgan"), ("eggan", "stargan"))),
    ("T2 identity: EGGAN's edits are verified as the source person more often than HGAN's and StarGAN's "
     "(identity judge)", "EGAN 97.04 > SGAN 93.32 > HGAN 76.54 (%)", "table2.accuracy_judge",
     (("hgan", "eggan"), ("stargan", "eggan"))),
    ("Ground truth: EGGAN's edits are closer to the true render of the source with the target AUs than the baselines' "
     "(L1 on [0, 1] pixels; lower is better)", "not measurable in the paper (no ground truth)", "edit_vs_truth.l1",
     (("eggan", "hgan"), ("eggan", "stargan"))),
)
#: Eq. 8 follows a straight line: the judged progress's Pearson r with alpha at least 0.9 (alpha explains >= 81%
#: of its variance; the threshold the GANmut series uses for its intensity axis).
INTERPOLATION_R = 0.9
#: Fig. 4's ablations: (config, what the paper says degrades, metric, higher is better)
ABLATIONS = (
    ("eggan__no_per", "without L_per: 'lack of fine semantic information ... and some artifacts' (Fig. 4, E_wtP)",
     "edit_vs_truth.ssim", True),
    ("eggan__no_id", "without L_id: 'cannot keep identities well' (Fig. 4, E_wtI)", "table2.accuracy_judge", True),
    ("eggan__no_msssim", "without MS-SSIM: 'cannot get effective results with expected expressions' (Fig. 4, E_wtS)",
     "table1.mse_avg", False),
)


def metric_value(record: Mapping[str, Any], metric: str) -> float | None:
    """``record[table][column]`` for ``metric = "table.column"`` (None where the record lacks it)."""
    table, _, column = metric.partition(".")
    row = record.get(table) or {}
    value = row.get(column)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def seed_estimates(records: Iterable[Mapping[str, Any]], metrics: Sequence[str]) -> dict[str, dict[str, Estimate | None]]:
    """{name: {metric: Estimate over its seeds}}."""
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        by_name.setdefault(record["name"], []).append(record)
    return {name: {m: estimate(metric_value(r, m) for r in group) for m in metrics} for name, group in by_name.items()}


def all_metrics() -> list[str]:
    metrics = {m for _, _, m, _ in ORDER_CLAIMS} | {m for _, _, m, _ in ABLATIONS} | {"fig3.pearson_r"}
    return sorted(metrics)


def seed_rows(records: Iterable[Mapping[str, Any]], digits: int = 4) -> list[dict[str, Any]]:
    """One row per generator: mean and std of each claimed metric over its seeds (the chapter's spread table)."""
    rows = []
    for name, est in seed_estimates(list(records), all_metrics()).items():
        row: dict[str, Any] = {"method": LABELS.get(name, name)}
        for metric, e in est.items():
            row[metric] = None if e is None else round(e.mean, digits)
            row[metric + " std"] = None if e is None or e.std is None else round(e.std, digits)
        row["seeds"] = max((e.n for e in est.values() if e is not None), default=0)
        rows.append(row)
    return rows


def _ours(pairs: Sequence[tuple[str, str]], est: Mapping[str, Mapping[str, Estimate | None]], metric: str) -> str:
    names = sorted({n for pair in pairs for n in pair}, key=list(LABELS).index)
    parts = []
    for n in names:
        e = est.get(n, {}).get(metric)
        parts.append(f"{LABELS[n]} {e.text() if e is not None else 'no record'}")
    return "; ".join(parts)


def claims(seed_records: Iterable[Mapping[str, Any]], ablation_records: Iterable[Mapping[str, Any]] = ()) -> list[dict[str, str]]:
    """Every claim's row (claim, paper, ours, verdict, why), the verdicts computed by the generic rules."""
    records = list(seed_records)
    est = seed_estimates(records, all_metrics())
    rows = []
    for claim, paper, metric, pairs in ORDER_CLAIMS:
        verdict, why = ordering_verdict([(LABELS[a], est.get(a, {}).get(metric), LABELS[b], est.get(b, {}).get(metric))
                                         for a, b in pairs], borrow_spread=True)
        rows.append(claim_row(claim, paper, _ours(pairs, est, metric), verdict, why))

    r = est.get("eggan", {}).get("fig3.pearson_r")
    verdict, why = threshold_verdict(None if r is None else r.mean, INTERPOLATION_R, "Pearson r of progress with alpha",
                                     "alpha explains at least 81% of the judged progress's variance")
    rows.append(claim_row("Fig. 3: Eq. 8's interpolation gives continuous intermediate expressions (the AU judge's "
                          "progress along alpha follows the straight line)", "shown qualitatively, no number",
                          f"EGAN r {r.text() if r is not None else 'no record'}", verdict, why))

    ablations = {r.get("config", r["name"]): r for r in ablation_records}
    for config, said, metric, higher in ABLATIONS:
        full = est.get("eggan", {}).get(metric)
        record = ablations.get(config)
        value = metric_value(record, metric) if record is not None else None
        if full is None:
            verdict, why = "not testable here", "no record of the full EGGAN"
        else:
            # worse than the full model's seed interval: below mean - std where higher is better, above mean + std otherwise
            edge = full.lo if higher else full.hi
            verdict, why = threshold_verdict(value, edge, f"{config} {metric}",
                                             f"the full EGGAN's {'mean - std' if higher else 'mean + std'} over "
                                             f"{full.n} seed(s); one seed of the ablation", higher=not higher)
        ours = f"{config} {value:.4g} (1 seed); EGAN {full.text() if full else 'no record'}" if value is not None \
            else f"{config}: no record"
        rows.append(claim_row(f"Fig. 4 ablation, {said}: worse {metric} than the full EGGAN", "shown qualitatively, no number",
                              ours, verdict, why))
    return rows


def read_ablation_records(results_dir: Any, profile: str | None = "gpu") -> list[dict[str, Any]]:
    """The ablations' records ``<results>/eggan/ablations/<CONFIG>-seed<K>.json`` (scripts/gpu/score_eggan.sh),
    each with its ``config`` taken from the file name."""
    import json
    import re
    from pathlib import Path

    folder = Path(results_dir) / "eggan" / "ablations"
    out = []
    for path in sorted(folder.glob("*-seed*.json")) if folder.is_dir() else []:
        match = re.fullmatch(r"(?P<config>[a-z0-9_]+)-seed(?P<seed>\d+)\.json", path.name)
        if match is None:
            continue
        record = json.loads(path.read_text())
        if profile is None or record.get("profile") == profile:
            out.append({**record, "config": match["config"]})
    return out
