"""companion.experiments.robust: summaries of chaotic experiments that cannot read differently on another machine."""
import numpy as np
import pytest

from companion.experiments.robust import NotRobust, coarse_median, count_above, over_seeds


def test_over_seeds_calls_once_per_seed_and_stacks_scalars_and_tuples():
    assert over_seeds(lambda s: s * 0.5, [1, 2, 3]).tolist() == [0.5, 1.0, 1.5]
    assert over_seeds(lambda s: (s, -s), [1, 2]).shape == (2, 2)
    with pytest.raises(ValueError, match="at least one seed"):
        over_seeds(lambda s: s, [])


def test_count_above_counts_and_treats_nan_as_not_above():
    assert count_above([0.95, 0.97, np.nan, 0.40], threshold=0.9, margin=0.02) == 2


def test_count_above_refuses_a_value_near_the_threshold():
    with pytest.raises(NotRobust, match="within 0.02 of the threshold 0.9"):
        count_above([0.95, 0.891], threshold=0.9, margin=0.02)
    with pytest.raises(ValueError, match="margin must be positive"):
        count_above([1.0], threshold=0.5, margin=0)


@pytest.mark.parametrize("values, step, expected", [([0.61, 0.58, 0.60], 0.05, 0.6), ([12.0, 31.0, 18.0], 10.0, 20.0),
                                                    ([0.149, 0.151, 0.15], 0.05, 0.15)])
def test_coarse_median_rounds_a_median_well_inside_its_cell(values, step, expected):
    assert coarse_median(values, step) == expected


def test_coarse_median_refuses_a_median_near_a_rounding_edge():
    with pytest.raises(NotRobust, match="rounding edge"):
        coarse_median([0.62, 0.63, 0.64], 0.05)  # 0.63 is 0.005 from the edge 0.625
    with pytest.raises(ValueError, match="finite"):
        coarse_median([0.5, np.nan], 0.05)
