"""late_change: the mean of a loss over a run's last window against the window before."""

from gamutlib.evaluation.training_record import late_change


def _log(values, every=100):
    return [{"step": (i + 1) * every, "G/loss": v} for i, v in enumerate(values)]


def test_a_falling_loss_reads_as_a_negative_change():
    log = _log([4.0] * 10 + [2.0] * 10)  # steps 100..2000: the last 1000 average 2, the 1000 before 4
    row = late_change(log, "G/loss", window=1000)
    assert row == {"steps": 2000, "before": 4.0, "last": 2.0, "change_pct": -50.0}


def test_a_log_too_short_for_two_windows_says_so_with_none():
    row = late_change(_log([3.0, 2.0]), "G/loss", window=1000)  # 200 steps: no window before the last
    assert row["steps"] == 200 and row["before"] is None and row["last"] is None and row["change_pct"] is None


def test_a_key_the_log_lacks_is_an_error():
    import pytest

    with pytest.raises(ValueError, match="no 'D/loss'"):
        late_change(_log([1.0, 1.0]), "D/loss")
