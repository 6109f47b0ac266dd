"""Whatever a submission does, check() returns a verdict that says what happened (and never raises)."""
import os
import signal
import sys
import time

import numpy as np
import pytest

from companion.exercises import check, registry, sandbox

REF = registry.get("bn_forward").reference
BOUND = 30.0  # generous: the machine is shared; what matters is that check returns at all


def _checked(fn, name="bn_forward"):
    start = time.monotonic()
    result = check(name, fn)
    assert time.monotonic() - start < BOUND
    return result


def _fails_with(fn, *fragments, name="bn_forward"):
    result = _checked(fn, name)
    assert not result.passed
    assert result.status == "fail"
    for fragment in fragments:
        assert fragment in result.message, result.message
    return result


# ------------------------------------------------------------------------------------------ exceptions
def test_other_exception_reports_type_message_and_only_the_readers_frames():
    def helper(x):
        return x / undefined_name  # noqa: F821

    def bn_forward(x, gamma, beta, eps=1e-5):
        return helper(x)

    result = _fails_with(bn_forward, "raised NameError", "undefined_name")
    functions = [frame[2] for frame in result.trace]
    assert functions == ["bn_forward", "helper"]
    assert all(frame[0] == os.path.basename(__file__) for frame in result.trace)
    text = repr(result)
    assert "return x / undefined_name" in text
    assert "sandbox" not in text and "grading" not in text


def test_exception_raised_inside_numpy_shows_only_the_readers_frame():
    def bn_forward(x, gamma, beta, eps=1e-5):
        return x - x.mean(axis=5)

    result = _fails_with(bn_forward, "raised AxisError")
    assert [frame[2] for frame in result.trace] == ["bn_forward"]
    assert not any("numpy" in frame[0] for frame in result.trace)


def test_wrong_number_of_parameters_says_how_the_function_is_called():
    _fails_with(lambda x, gamma: x, "raised TypeError", "bn_forward(x, gamma, beta, eps)")


def test_exception_whose_message_cannot_be_printed():
    class Nasty(Exception):
        def __str__(self):
            raise RuntimeError("no")

    def bn_forward(x, gamma, beta, eps=1e-5):
        raise Nasty()

    _fails_with(bn_forward, "raised Nasty", "could not be shown")


@pytest.mark.parametrize("exc", [SystemExit(3), KeyboardInterrupt()])
def test_base_exceptions_are_reported(exc):
    def bn_forward(x, gamma, beta, eps=1e-5):
        raise exc

    _fails_with(bn_forward, f"raised {type(exc).__name__}")


# ------------------------------------------------------------------------------------------ return values
@pytest.mark.parametrize("fn, fragment", [
    (lambda x, gamma, beta, eps=1e-5: None, "y is None: did you forget a return statement?"),
    (lambda x, gamma, beta, eps=1e-5: REF(x, gamma, beta, eps).tolist(), "y is a list of"),
    (lambda x, gamma, beta, eps=1e-5: 1.5, "y is a float, expected a numpy.ndarray"),
    (lambda x, gamma, beta, eps=1e-5: REF(x, gamma, beta, eps).T, "y has shape (3, 4), expected (4, 3)"),
    (lambda x, gamma, beta, eps=1e-5: REF(x, gamma, beta, eps)[0], "y has shape (3,), expected (4, 3)"),
    (lambda x, gamma, beta, eps=1e-5: REF(x, gamma, beta, eps).astype(np.float32),
     "y has dtype float32, expected float64"),
    (lambda x, gamma, beta, eps=1e-5: REF(x, gamma, beta, eps).astype(object), "y has dtype object"),
    (lambda x, gamma, beta, eps=1e-5: (REF(x, gamma, beta, eps), None), "(this exercise returns no cache)"),
    (lambda x, gamma, beta, eps=1e-5: {"y": x}, "y is a dict"),
])
def test_wrong_return_type_shape_or_dtype_is_named(fn, fragment):
    _fails_with(fn, "Wrong return value for x of shape (4, 3)", fragment)


def test_wrong_tuple_structure_is_named():
    ref = registry.get("bn_backward").reference
    _fails_with(lambda dy, x, gamma, eps=1e-5: ref(dy, x, gamma, eps)[:2],
                "a tuple of 2 items, expected a tuple of 3 arrays (dx, dgamma, dbeta)", name="bn_backward")
    _fails_with(lambda dy, x, gamma, eps=1e-5: ref(dy, x, gamma, eps)[0],
                "expected a tuple of 3 arrays", name="bn_backward")
    _fails_with(lambda dy, x, gamma, eps=1e-5: None,
                "it returned None, expected a tuple of 3 arrays", name="bn_backward")
    _fails_with(lambda dy, x, gamma, eps=1e-5: (*ref(dy, x, gamma, eps)[:2], 0.0),
                "dbeta is a float, expected a numpy.ndarray", name="bn_backward")


def test_a_list_of_arrays_is_as_good_as_a_tuple():
    ref = registry.get("bn_backward").reference
    assert _checked(lambda dy, x, gamma, eps=1e-5: list(ref(dy, x, gamma, eps)), "bn_backward").passed


@pytest.mark.parametrize("bad, fragment", [(np.nan, "y contains NaN"), (np.inf, "y contains inf")])
def test_nan_and_inf_are_named(bad, fragment):
    def bn_forward(x, gamma, beta, eps=1e-5):
        y = REF(x, gamma, beta, eps)
        y[0, 0] = bad
        return y

    _fails_with(bn_forward, fragment, "(1 of 12 entries)")


def test_nan_from_a_missing_eps_on_a_constant_feature():
    def bn_forward(x, gamma, beta, eps=1e-5):
        return gamma * (x - x.mean(0)) * 0 / np.sqrt(x.var(0) * 0) + beta  # 0 / 0

    result = _fails_with(bn_forward, "contains NaN")
    assert "RuntimeWarning" in result.output  # numpy's warning was captured, not shown in the notebook


# ------------------------------------------------------------------------------------------ in-place modification
def test_modifying_the_input_in_place_is_flagged_even_with_right_values():
    def bn_forward(x, gamma, beta, eps=1e-5):
        y = REF(x, gamma, beta, eps)
        x -= x.mean(axis=0)
        return y

    _fails_with(bn_forward, "modified its input x in place")


def test_in_place_flag_names_every_modified_argument():
    def bn_running_update(running_mean, running_var, x, momentum=0.1):  # torch updates in place; not here
        running_mean *= 1 - momentum
        running_mean += momentum * x.mean(0)
        running_var *= 1 - momentum
        running_var += momentum * x.var(0, ddof=1)
        return running_mean, running_var

    _fails_with(bn_running_update, "running_mean, running_var in place", name="bn_running_update")


def test_reshaping_the_input_in_place_is_flagged():
    def bn_forward(x, gamma, beta, eps=1e-5):
        y = REF(x, gamma, beta, eps)
        x.shape = (x.size,)
        return y

    _fails_with(bn_forward, "modified its input x in place")


def test_the_submission_cannot_change_the_notebooks_state():
    seen = []

    def bn_forward(x, gamma, beta, eps=1e-5):
        seen.append(1)
        return REF(x, gamma, beta, eps)

    assert _checked(bn_forward).passed
    if sandbox.USE_FORK:
        assert seen == []  # it ran in a separate process


# ------------------------------------------------------------------------------------------ time and output
@pytest.fixture
def short_limit(monkeypatch):
    monkeypatch.setattr(sandbox, "TIME_LIMIT", 1.0)


def test_endless_loop_is_stopped_and_reported_as_too_slow(short_limit):
    def bn_forward(x, gamma, beta, eps=1e-5):
        while True:
            pass

    _fails_with(bn_forward, "Too slow: stopped after 1 s")


def test_a_loop_that_swallows_every_exception_is_still_stopped(short_limit):
    def bn_forward(x, gamma, beta, eps=1e-5):
        while True:
            try:
                time.sleep(0.01)
            except BaseException:
                pass

    _fails_with(bn_forward, "Too slow")


def test_output_printed_before_a_timeout_is_kept(short_limit):
    def bn_forward(x, gamma, beta, eps=1e-5):
        print("starting")
        sys.stdout.flush()
        time.sleep(60)

    result = _fails_with(bn_forward, "Too slow")
    if sandbox.USE_FORK:
        assert result.output == ""  # the child was killed before it could report
    assert "not passed" in repr(result)


def test_a_lot_of_printing_is_captured_and_truncated():
    def bn_forward(x, gamma, beta, eps=1e-5):
        for i in range(20000):
            print("line", i)
        print("x" * 10**6, file=sys.stderr)
        return REF(x, gamma, beta, eps)

    result = _checked(bn_forward)
    assert result.passed, result.message
    assert len(result.output) <= sandbox.OUTPUT_LIMIT
    assert result.output.startswith("line 0\nline 1\n")
    assert result.output_total > 10**6
    text = repr(result)
    assert "truncated" in text
    assert text.count("\n") < 40
    assert "truncated" in result._repr_html_()


def test_printing_in_a_passing_solution_is_shown_compactly():
    def bn_forward(x, gamma, beta, eps=1e-5):
        print("shape", x.shape)
        return REF(x, gamma, beta, eps)

    result = _checked(bn_forward)
    assert result.passed
    assert result.output.startswith("shape (4, 3)\n")
    assert "truncated" not in repr(result)


# ------------------------------------------------------------------------------------------ the process itself
@pytest.mark.skipif(not sandbox.USE_FORK, reason="needs the forked sandbox")
def test_os_exit_is_reported():
    def bn_forward(x, gamma, beta, eps=1e-5):
        os._exit(3)

    _fails_with(bn_forward, "ended the process", "exited with status 3")


@pytest.mark.skipif(not sandbox.USE_FORK, reason="needs the forked sandbox")
def test_a_crash_is_reported():
    def bn_forward(x, gamma, beta, eps=1e-5):
        os.kill(os.getpid(), signal.SIGSEGV)

    _fails_with(bn_forward, "ended the process", "killed by signal SIGSEGV")


# ------------------------------------------------------------------------------------------ no false passes
class _Liar(np.ndarray):
    """Claims to equal everything and to be close to anything."""

    def __eq__(self, other):
        return True

    def __array_ufunc__(self, *args, **kwargs):
        return np.True_

    def __array_function__(self, *args, **kwargs):
        return True


def test_an_array_subclass_cannot_fool_the_comparison():
    def bn_forward(x, gamma, beta, eps=1e-5):
        return np.zeros(x.shape).view(_Liar)

    _fails_with(bn_forward, "y differs from the expected values")


def test_a_masked_array_is_compared_on_all_its_data():
    def bn_forward(x, gamma, beta, eps=1e-5):
        y = REF(x, gamma, beta, eps)
        y[0, 0] += 1.0
        mask = np.zeros(y.shape, dtype=bool)
        mask[0, 0] = True
        return np.ma.masked_array(y, mask=mask)

    _fails_with(bn_forward, "y differs from the expected values")


def test_an_object_that_only_looks_like_an_array_is_rejected():
    class Fake:
        shape, dtype = (4, 3), np.float64

        def __array__(self, dtype=None, copy=None):
            return np.zeros(self.shape)

    _fails_with(lambda x, gamma, beta, eps=1e-5: Fake(), "expected a numpy.ndarray")


def test_hard_coding_eps_is_caught_by_a_case_with_another_eps():
    def bn_forward(x, gamma, beta, eps=1e-5):
        return REF(x, gamma, beta, 1e-5)

    _fails_with(bn_forward, "y differs from the expected values on 1 of")


# ------------------------------------------------------------------------------------------ without fork
@pytest.fixture
def no_fork(monkeypatch):
    monkeypatch.setattr(sandbox, "USE_FORK", False)
    monkeypatch.setattr(sandbox, "TIME_LIMIT", 0.5)


def test_thread_fallback_grades_like_the_fork(no_fork):
    assert _checked(REF).passed
    assert _checked(lambda x, gamma, beta, eps=1e-5: x.__isub__(1.0)).message.startswith(
        "Your function modified its input x in place")
    stub = registry.get("bn_forward").mutants[0].fn
    assert _checked(stub).misconception == "unbiased_variance"


def test_thread_fallback_reports_a_slow_function(no_fork):
    def bn_forward(x, gamma, beta, eps=1e-5):
        time.sleep(1.5)  # ends by itself: a thread cannot be killed
        return REF(x, gamma, beta, eps)

    _fails_with(bn_forward, "Too slow: stopped after 0.5 s")
    time.sleep(1.5)


def test_a_submission_may_use_torch_even_after_the_parent_ran_parallel_torch_ops():
    torch = pytest.importorskip("torch")
    torch.randn(1000, 1000).sum(0)  # starts the parent's OpenMP pool, which a forked child cannot use

    def bn_forward(x, gamma, beta, eps=1e-5):
        t = torch.from_numpy(x)
        torch.randn(1000, 1000).sum(0)  # a parallel op in the child
        y = (t - t.mean(0)) / torch.sqrt(t.var(0, unbiased=False) + eps)
        return (torch.from_numpy(gamma) * y + torch.from_numpy(beta)).numpy()

    result = _checked(bn_forward)
    assert result.passed, result.message
