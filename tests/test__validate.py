"""companion._validate: bad input gets a TypeError/ValueError naming the argument, never a NumPy internals traceback."""
import numpy as np
import pytest

import companion as c

X = np.random.default_rng(0).normal(size=(4, 3))
W = np.ones(3)
B = np.zeros(3)


def _raises(exc, fragment, fn, *args, **kwargs):
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    assert fragment in str(info.value), str(info.value)


def test_one_value_per_channel_in_training():
    _raises(ValueError, "more than 1 value per channel", c.batch_norm_forward, X[:1], W, B)
    _raises(ValueError, "more than 1 value per channel", c.BatchNorm(3), X[:1])
    _raises(ValueError, "more than 1 value per channel", c.BatchNorm(3), np.ones((1, 3, 1, 1)))
    c.BatchNorm(3).eval()(X[:1])  # eval mode with running stats is fine


def test_one_value_per_channel_without_running_stats_even_in_eval():
    _raises(ValueError, "more than 1 value per channel", c.BatchNorm(3, track_running_stats=False).eval(), X[:1])


def test_weight_and_bias_shapes():
    _raises(ValueError, "weight must have shape (3,)", c.batch_norm_forward, X, np.ones(4), B)
    _raises(ValueError, "bias must have shape (3,)", c.batch_norm_forward, X, W, np.zeros((3, 1)))
    bn = c.BatchNorm(3)
    bn.weight = np.ones(2)
    _raises(ValueError, "weight must have shape (3,)", bn, X)


def test_running_stat_shapes():
    bn = c.BatchNorm(3)
    bn.running_mean = np.zeros(5)
    _raises(ValueError, "running_mean must have shape (3,)", bn, X)
    bn = c.BatchNorm(3)
    bn.running_var = np.ones(2)
    _raises(ValueError, "running_var must have shape (3,)", bn.eval(), X)


def test_too_few_dimensions_and_empty_batch():
    _raises(ValueError, "x must have at least 2 dimensions", c.batch_norm_forward, np.ones(3), W, B)
    _raises(ValueError, "x must have at least 2 dimensions", c.BatchNorm(3), np.ones(3))
    _raises(ValueError, "x must not be empty", c.BatchNorm(3), np.ones((0, 3)))
    _raises(ValueError, "x must not be empty", c.dropout_forward, np.ones((0, 3)))


@pytest.mark.parametrize("bad", [np.ones((4, 3), dtype=int), np.ones((4, 3), dtype=bool)])
def test_integer_and_bool_input(bad):
    _raises(TypeError, "floating dtype", c.batch_norm_forward, bad, W, B)
    _raises(TypeError, "floating dtype", c.BatchNorm(3), bad)
    _raises(TypeError, "floating dtype", c.dropout_forward, bad, 0.5)


def test_non_array_input():
    _raises(TypeError, "x must be a numpy.ndarray", c.batch_norm_forward, [[1.0, 2.0, 3.0]] * 4, W, B)
    _raises(TypeError, "x must be a numpy.ndarray", c.BatchNorm(3), "abc")
    _raises(TypeError, "x must be a numpy.ndarray", c.dropout_forward, 3.0)


def test_torch_tensor_input_gets_a_hint():
    import torch

    _raises(TypeError, ".numpy()", c.BatchNorm(3), torch.zeros(4, 3))


def test_channel_count_mismatch():
    _raises(ValueError, "expected num_features=5", c.BatchNorm(5), X)


def test_p_out_of_range():
    _raises(ValueError, "p must be in [0, 1]", c.dropout_forward, X, 1.5)
    _raises(ValueError, "p must be in [0, 1]", c.Dropout, -0.1)
    _raises(TypeError, "p must be a real number", c.Dropout, "0.5")
    _raises(ValueError, "p must be in [0, 1]", c.dropout_backward, X, np.ones(X.shape, bool), 2.0)


def test_momentum_out_of_range_none_allowed():
    _raises(ValueError, "momentum must be in [0, 1]", c.BatchNorm, 3, momentum=1.5)
    _raises(ValueError, "momentum must be in [0, 1]", c.BatchNorm, 3, momentum=-0.1)
    assert c.BatchNorm(3, momentum=None).momentum is None


def test_negative_eps():
    _raises(ValueError, "eps must be a finite number >= 0", c.BatchNorm, 3, eps=-1e-5)
    _raises(ValueError, "eps must be a finite number >= 0", c.batch_norm_forward, X, W, B, eps=-1.0)


def test_num_features_below_one():
    _raises(ValueError, "num_features must be >= 1", c.BatchNorm, 0)
    _raises(TypeError, "num_features must be an integer", c.BatchNorm, 2.5)


def test_dy_shape_mismatch():
    _, cache = c.batch_norm_forward(X, W, B)
    _raises(ValueError, "dy must have the shape of the forward input (4, 3)", c.batch_norm_backward, np.ones((3, 3)), cache)
    bn = c.BatchNorm(3)
    bn(X)
    _raises(ValueError, "dy must have the shape of the forward input", bn.backward, np.ones((4, 4)))
    _raises(ValueError, "mask must have the shape of dy", c.dropout_backward, np.ones((4, 4)), np.ones((4, 3), bool), 0.5)
    _raises(TypeError, "mask must be the boolean keep-mask", c.dropout_backward, X, np.ones((4, 3)), 0.5)


def test_backward_before_forward():
    _raises(c.CallOrderError, "backward() called before forward()", c.BatchNorm(3).backward, X)
    _raises(c.CallOrderError, "backward() called before forward()", c.Dropout(0.5).backward, X)
    assert issubclass(c.CallOrderError, ValueError) and issubclass(c.CallOrderError, RuntimeError)


def test_bad_rng():
    _raises(TypeError, "rng must be None, an int seed or a numpy.random.Generator", c.dropout_forward, X, 0.5, True, "seed")
