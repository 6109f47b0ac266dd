"""median_time: calls fn warmup + repeats times and returns the median of the timed calls."""
import pytest

from companion.notebook.timing import median_time


def test_calls_and_median(monkeypatch):
    calls = []
    ticks = iter([0.0, 1.0, 10.0, 13.0, 20.0, 22.0])  # durations 1, 3, 2 -> median 2
    monkeypatch.setattr("companion.notebook.timing.time.perf_counter", lambda: next(ticks))
    assert median_time(lambda: calls.append(1), repeats=3, warmup=2) == 2.0
    assert len(calls) == 5


@pytest.mark.parametrize("kwargs", [dict(repeats=0), dict(warmup=-1), dict(repeats=2.5)])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="repeats must be an int"):
        median_time(lambda: None, **kwargs)
    with pytest.raises(TypeError, match="fn must be callable"):
        median_time(3)
