"""Welford's update and Chan's merge: exact agreement with the definition, robustness to a large mean."""
import numpy as np
import pytest

from companion.welford import merge_moments, one_pass_stats, welford_stats


def _exact(x):
    """Mean and biased variance of the stored values, by the definition in float64 (reference)."""
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=0)
    return mean, ((x64 - mean) ** 2).mean(axis=0)


@pytest.mark.parametrize("shape", [(1,), (7,), (50, 3), (20, 2, 4)])
def test_welford_matches_the_definition_in_float64(rng, shape):
    x = rng.normal(3.0, 2.0, size=shape)
    mean, var = welford_stats(x)
    ref_mean, ref_var = _exact(x)
    assert mean.shape == shape[1:] and mean.dtype == np.float64
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(var, ref_var, rtol=1e-12, atol=1e-14)


def test_one_pass_matches_the_definition_without_offset(rng):
    x = rng.normal(0.0, 1.0, size=(100, 3))
    mean, var = one_pass_stats(x)
    np.testing.assert_allclose(var, _exact(x)[1], rtol=1e-12)


def test_large_mean_in_float32_breaks_one_pass_but_not_welford(rng):
    """|mean|/std = 1e4 in float32: one_pass loses every digit (multiples of the spacing of 1e8), Welford keeps ~3."""
    x = (1e4 + rng.normal(size=(1000, 8))).astype(np.float32)
    _, ref = _exact(x)
    _, v1 = one_pass_stats(x)
    _, vw = welford_stats(x)
    assert v1.dtype == vw.dtype == np.float32
    assert np.all(np.abs(v1 - ref) / ref > 0.5)  # garbage: in float32 mean(x**2) has a spacing of 8
    assert np.all(np.mod(v1, 8) == 0)  # ... so the difference is a multiple of 8 (possibly 0 or negative)
    assert np.all(np.abs(vw - ref) / ref < 1e-2)
    assert np.all(vw >= 0)


def test_one_pass_can_be_negative():
    """Values 4097, 4098, 4097 in float32: the squares (about 1.7e7) are stored with a spacing of 2, and
    mean(x**2) rounds below mean(x)**2, although the true variance is 2/9."""
    x = np.array([[4097.0], [4098.0], [4097.0]], dtype=np.float32)
    assert one_pass_stats(x)[1][0] < 0
    np.testing.assert_allclose(welford_stats(x)[1][0], 2.0 / 9.0, rtol=1e-3)


@pytest.mark.parametrize("split", [1, 5, 19])
def test_merge_gives_the_statistics_of_the_union(rng, split):
    x = rng.normal(10.0, 3.0, size=(20, 4))
    parts = [x[:split], x[split:]]
    stats = [(len(p), p.mean(axis=0), ((p - p.mean(axis=0)) ** 2).sum(axis=0)) for p in parts]
    n, mean, s = merge_moments(*stats)
    ref_mean, ref_var = _exact(x)
    assert n == 20
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-13)
    np.testing.assert_allclose(s / n, ref_var, rtol=1e-12)


def test_merge_of_scalars_and_of_single_values():
    n, mean, s = merge_moments((1, 2.0, 0.0), (1, 4.0, 0.0))
    assert (n, float(mean), float(s)) == (2, 3.0, 2.0)  # values 2 and 4: mean 3, squared deviations 1 + 1


def test_errors():
    with pytest.raises(TypeError, match="x must be a numpy.ndarray"):
        welford_stats([1.0, 2.0])
    with pytest.raises(TypeError, match="floating dtype"):
        one_pass_stats(np.arange(3))
    with pytest.raises(ValueError, match="x must not be empty"):
        welford_stats(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="n of a must be an integer >= 1"):
        merge_moments((0, 1.0, 0.0), (1, 1.0, 0.0))
    with pytest.raises(ValueError, match="tuple"):
        merge_moments((1, 1.0), (1, 1.0, 0.0))
    with pytest.raises(ValueError, match="one shape"):
        merge_moments((1, np.zeros(2), np.zeros(2)), (1, np.zeros(3), np.zeros(3)))
