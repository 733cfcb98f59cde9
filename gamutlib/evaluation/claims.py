"""A verdict per claim: the paper's headline claims against our numbers.

Every paper series ends its evaluation with one table,
``{results_dir}/<paper>/claims.json``, one row per claim::

    {"claim": "...", "paper": "...", "ours": "...", "verdict": "holds", "why": "..."}

The verdict is one of ``VERDICTS`` and is always computed from the numbers
by one of the rules below, never written by hand:

- ``ordering_verdict``: "A < B" (lower is better) holds only when A's
  interval mean ± std lies wholly below B's; it does not hold when the
  intervals overlap (the seeds cannot tell the two apart) or when A lies
  above B. With fewer than two seeds of either there is no spread to judge
  by, and the claim is not testable here; a series whose baseline exists as
  one seed only (EGGAN's StarGAN: another series' shipped run) may judge
  that seed against the other side's spread instead (``borrow_spread``), the
  rule its one-seed ablations follow too.
- ``reach_verdict``: "our number reaches the paper's" holds when mean + std
  (mean - std where lower is better) reaches the paper's value.
- ``threshold_verdict``: a measure beyond a stated threshold (the measures
  the paper could not make, where each rule says where its threshold comes from).

``Estimate`` carries a mean, a sample standard deviation and the number of
seeds behind them.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

VERDICTS = ("holds", "does not hold", "not testable here")
COLUMNS = ("claim", "paper", "ours", "verdict", "why")


@dataclass(frozen=True)
class Estimate:
    """mean ± sample std over ``n`` seeds (std is None for one seed)."""

    mean: float
    std: float | None
    n: int

    @property
    def spread(self) -> float:
        return self.std if self.std is not None else 0.0

    @property
    def lo(self) -> float:
        return self.mean - self.spread

    @property
    def hi(self) -> float:
        return self.mean + self.spread

    def text(self, digits: int = 3) -> str:
        mean = f"{self.mean:.{digits}g}"
        if self.std is None:
            return f"{mean} (1 seed)"
        return f"{mean} ± {self.std:.2g} ({self.n} seeds)"


def estimate(values: Iterable[float | None]) -> Estimate | None:
    """The Estimate of the finite values given; None when there are none."""
    kept = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not kept:
        return None
    return Estimate(statistics.fmean(kept), statistics.stdev(kept) if len(kept) > 1 else None, len(kept))


def claim_row(claim: str, paper: str, ours: str, verdict: str, why: str) -> dict[str, str]:
    """One row of a claims table; the verdict must be one of VERDICTS."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}; got {verdict!r}")
    for name, value in (("claim", claim), ("paper", paper), ("ours", ours), ("why", why)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string; got {value!r}")
    return {"claim": claim, "paper": paper, "ours": ours, "verdict": verdict, "why": why}


def _fmt(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}g}"


def _borrowed(a: Estimate, b: Estimate) -> tuple[Estimate, Estimate]:
    """A one-seed side takes the other side's std (the seed spread of the method it is compared with)."""
    if a.std is None and b.std is not None:
        return Estimate(a.mean, b.std, a.n), b
    if b.std is None and a.std is not None:
        return a, Estimate(b.mean, a.std, b.n)
    return a, b


def ordering_verdict(pairs: Sequence[tuple[str, Estimate | None, str, Estimate | None]],
                     borrow_spread: bool = False) -> tuple[str, str]:
    """(verdict, why) of the claim that, in every pair (name_a, a, name_b, b), a < b.

    Holds when every a's mean + std lies below b's mean - std; not testable
    when a number is missing or has a single seed; otherwise does not hold,
    and ``why`` names each pair that failed and how. With ``borrow_spread`` a
    one-seed side is judged with the other side's std instead (not testable
    only when both sides have one seed), and ``why`` says which seeds lent it."""
    if not pairs:
        raise ValueError("an ordering claim needs at least one pair")
    missing = [f"{na if a is None else nb}" for na, a, nb, b in pairs if a is None or b is None]
    if missing:
        return "not testable here", f"no record of {', '.join(sorted(set(missing)))}"
    lent = []
    if borrow_spread:
        borrowed = []
        for na, a, nb, b in pairs:
            assert a is not None and b is not None
            if (a.std is None) != (b.std is None):
                one, many = (na, nb) if a.std is None else (nb, na)
                lent.append(f"{one} has one seed, judged with {many}'s seed spread")
            a_lent, b_lent = _borrowed(a, b)
            borrowed.append((na, a_lent, nb, b_lent))
        pairs = borrowed
    single = sorted({n for na, a, nb, b in pairs for n, e in ((na, a), (nb, b)) if e.std is None})  # type: ignore[union-attr]
    if single:
        return "not testable here", f"one seed only for {', '.join(single)}: no spread to judge the ordering by"
    failed, held = [], []
    for na, a, nb, b in pairs:
        assert a is not None and b is not None
        if a.hi < b.lo:
            held.append(f"{na} < {nb} beyond the seed spread")
        elif a.lo > b.hi:
            failed.append(f"{na} > {nb} beyond the seed spread ({_fmt(a.mean)} vs {_fmt(b.mean)}, "
                          f"{(a.mean - b.mean) / max(a.spread + b.spread, 1e-12):.1f}x the summed spreads)")
        else:
            side = "<" if a.mean < b.mean else ">="
            failed.append(f"{na} and {nb} within the seed spread ({_fmt(a.mean)} {side} {_fmt(b.mean)}; "
                          f"the means differ by {abs(a.mean - b.mean):.2g}, the spreads add to {a.spread + b.spread:.2g})")
    if failed:
        return "does not hold", "; ".join(failed + held + lent)
    return "holds", "; ".join(held + lent)


def reach_verdict(ours: Estimate | None, paper: float | None, higher_is_better: bool = True,
                  unit: str = "") -> tuple[str, str]:
    """(verdict, why) of the claim that our number reaches the paper's.

    Holds when mean + std >= paper (mean - std <= paper where lower is better)."""
    if ours is None or paper is None:
        return "not testable here", "no record" if ours is None else "the paper gives no number"
    best = ours.hi if higher_is_better else ours.lo
    reached = best >= paper if higher_is_better else best <= paper
    gap = ours.mean - paper
    spreads = f", {abs(gap) / ours.std:.1f} seed spreads" if ours.std else " (one seed)"
    side = "above" if gap > 0 else "below"
    text = f"ours {_fmt(ours.mean)}{unit} is {abs(gap):.3g}{unit} {side} the paper's {_fmt(paper)}{unit}{spreads}"
    return ("holds" if reached else "does not hold"), text


def threshold_verdict(value: float | None, threshold: float, name: str, rule: str, higher: bool = True) -> tuple[str, str]:
    """(verdict, why) of ``value`` >= ``threshold`` (<= where not ``higher``); ``rule`` says where the threshold comes from."""
    if value is None or not math.isfinite(float(value)):
        return "not testable here", f"{name} is not recorded"
    ok = value >= threshold if higher else value <= threshold
    sign = (">=" if ok else "<") if higher else ("<=" if ok else ">")
    return ("holds" if ok else "does not hold"), f"{name} {_fmt(value)} {sign} {_fmt(threshold)} ({rule})"


def verdict_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many rows carry each verdict."""
    counts = {v: 0 for v in VERDICTS}
    for row in rows:
        counts[row["verdict"]] += 1
    return counts


def write_claims(results_dir: Any, paper: str, rows: Sequence[Mapping[str, Any]], source: str, protocol: str,
                 seeds: Sequence[int], producer: str) -> Any:
    """``{results_dir}/<paper>/claims.json`` through write_table (no tolerance: a
    verdict table is re-derived from the records, never compared cell by cell)."""
    from gamutlib.reproduce import write_table

    for row in rows:
        if tuple(row) != COLUMNS:
            raise ValueError(f"a claim row has the columns {COLUMNS}; got {tuple(row)}")
        claim_row(**row)  # validates the verdict and the texts
    return write_table(results_dir, paper, "claims", rows=list(rows),
                       paper_numbers={"source": source, "verdicts": list(VERDICTS)}, protocol=protocol, seeds=list(seeds),
                       producer=producer)
