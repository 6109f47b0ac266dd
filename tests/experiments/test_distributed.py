"""companion.experiments.distributed: results in rank order, a real process group, failures reported."""
import pytest

from companion.experiments.distributed import ProcessGroupError, run_processes


def _sum_of_ranks(rank, world_size, offset):
    import torch
    import torch.distributed as dist

    t = torch.tensor([float(rank + offset)])
    dist.all_reduce(t)
    return rank, world_size, float(t.item())


def _keywords(rank, world_size, scale=1):
    return rank * scale


def test_keyword_arguments_reach_every_process():
    assert run_processes(_keywords, 2, kwargs=dict(scale=5), timeout=300) == [0, 5]


def _fails(rank, world_size):
    raise ArithmeticError(f"deliberate failure on rank {rank}")


def test_results_come_back_in_rank_order_from_a_real_group():
    out = run_processes(_sum_of_ranks, 3, (10,), timeout=300)
    assert out == [(r, 3, 33.0) for r in range(3)]


def test_a_failure_is_reported_with_its_traceback():
    with pytest.raises(ProcessGroupError, match="deliberate failure on rank 0"):
        run_processes(_fails, 1, timeout=300)


def test_world_size_is_checked():
    with pytest.raises(ValueError, match="world_size"):
        run_processes(_sum_of_ranks, 0)
