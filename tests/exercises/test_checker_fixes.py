"""The checker fixes of issue 12, one test each: precision, counts and zero answers, float32, the companion's
own implementation, the signature advice, misconceptions named only when reproduced, formatted verdicts, and
the first check in a fresh interpreter loading only the bank it needs."""
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from companion.exercises import check, register_question, registry
from companion.exercises.results import plain, to_html


# ------------------------------------------------------------------ numeric precision
def test_an_answer_meets_exactly_the_stated_precision(scratch_names):
    register_question("zz_prec", answer=1.2345678, kind="numeric", rtol=1e-3)
    scratch_names.append("zz_prec")
    todo = check("zz_prec", None)
    assert "within 0.1 % of the right value (give at least 4 significant digits)" in todo.message
    assert check("zz_prec", 1.235).passed  # 4 significant digits, as the verdict asks
    assert check("zz_prec", 1.2345678 * (1 + 0.99e-3)).passed
    close = check("zz_prec", 1.24)  # 3 digits: near, not precise enough
    assert not close.passed and close.message.startswith("Close: give more digits.")
    far = check("zz_prec", 1.5)
    assert not far.passed and "is not right" in far.message and "Close" not in far.message


def test_digits_asked_always_meet_the_tolerance():
    for rtol, digits in ((1e-3, 4), (1e-4, 5), (0.02, 3), (1e-6, 7)):
        q = registry.Question("zz", 1.0, "numeric", rtol=rtol)
        assert q.digits == digits
        for leading in (1.0, 1.99999, 9.99999, 5.55555):
            rounded = float(f"{leading:.{digits - 1}e}")
            assert abs(rounded - leading) <= rtol * leading, (rtol, leading)


def test_a_known_wrong_answer_is_named_before_close(scratch_names):
    register_question("zz_prec2", answer=2.0, kind="numeric", rtol=1e-3, wrong={1.98: "the old value stays"})
    scratch_names.append("zz_prec2")
    assert check("zz_prec2", 1.98).hint == "the old value stays"


# ------------------------------------------------------------------ counts and zero answers
def test_a_count_is_a_whole_number(scratch_names):
    register_question("zz_count", answer=6272, kind="count", wrong={32: "only the samples"})
    scratch_names.append("zz_count")
    assert "a whole number" in check("zz_count", None).message
    assert check("zz_count", 6272).passed and check("zz_count", 6272.0).passed
    fractional = check("zz_count", 6272.4)
    assert not fractional.passed and "is not a whole number" in fractional.message
    assert check("zz_count", 32).hint == "only the samples"
    assert check("zz_count", 6273).message == "6273 is not right."
    with pytest.raises(TypeError, match="integer"):
        register_question("zz_count2", answer=3.5, kind="count")


def test_the_book_counts_are_counts():
    assert registry.get("bnlayer_values_per_statistic").kind == "count"


def test_a_zero_answer_needs_an_absolute_tolerance(scratch_names):
    with pytest.raises(ValueError, match="absolute tolerance"):
        register_question("zz_zero", answer=0.0, kind="numeric", rtol=1e-3)
    register_question("zz_zero", answer=0.0, kind="numeric", rtol=0.0, atol=1e-3)
    scratch_names.append("zz_zero")
    assert "within 0.001 of the right value" in check("zz_zero", None).message
    assert check("zz_zero", 5e-4).passed and not check("zz_zero", 2e-3).passed


def test_every_numeric_answer_of_the_book_states_its_precision():
    for entry in registry.exercises():
        if entry.kind in ("numeric", "count"):
            assert entry.expected.startswith(("a number, within", "a whole number")), entry.name
            if entry.kind == "numeric" and entry.answer == 0:
                assert entry.atol > 0, entry.name


# ------------------------------------------------------------------ float32
def test_float32_precision_gets_a_hint_not_a_bare_difference():
    def bn_forward(x, gamma, beta, eps=1e-5):
        x32 = x.astype(np.float32)
        mean, var = x32.mean(axis=0), x32.var(axis=0)
        y = gamma.astype(np.float32) * (x32 - mean) / np.sqrt(var + np.float32(eps)) + beta.astype(np.float32)
        return y.astype(np.float64)

    result = check("bn_forward", bn_forward)
    assert not result.passed
    assert result.misconception == "float32_precision"
    assert "float32" in result.hint and "float64" in result.hint


def test_a_wrong_float64_result_gets_no_float32_hint():
    def bn_forward(x, gamma, beta, eps=1e-5):
        return gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + beta + 1e-3

    assert check("bn_forward", bn_forward).misconception is None


# ------------------------------------------------------------------ the companion's own implementation
def test_calling_the_companions_implementation_does_not_pass():
    import companion
    from companion.batchnorm import batch_norm_forward

    def bn_forward(x, gamma, beta, eps=1e-5):
        return batch_norm_forward(x, gamma, beta, eps)[0]

    def bn_forward_attr(x, gamma, beta, eps=1e-5):
        return companion.batch_norm_forward(x, gamma, beta, eps)[0]

    def helper(x, gamma, beta, eps):
        return companion.batch_norm_forward(x, gamma, beta, eps)[0]

    def bn_forward_helper(x, gamma, beta, eps=1e-5):
        return helper(x, gamma, beta, eps)

    for fn in (bn_forward, bn_forward_attr, bn_forward_helper, lambda x, g, b, eps=1e-5: bn_forward(x, g, b, eps)):
        result = check("bn_forward", fn)
        assert not result.passed
        assert "companion.batchnorm.batch_norm_forward" in result.message and "Write it yourself" in result.message


def test_the_companions_implementation_through_the_check_cells_wrapper_does_not_pass():
    from companion.experiments.finetune import finetune_probe, freeze_batchnorm

    def pitfall_freeze_bn(model):
        freeze_batchnorm(model)

    for fn in (finetune_probe(freeze_batchnorm), finetune_probe(pitfall_freeze_bn)):
        result = check("pitfall_freeze_bn", fn)
        assert not result.passed and "freeze_batchnorm" in result.message


def test_own_work_that_uses_numpy_and_torch_passes():
    from torch import nn

    from companion.experiments.finetune import finetune_probe

    def pitfall_freeze_bn(model):
        for layer in model.modules():
            if isinstance(layer, nn.modules.batchnorm._BatchNorm):
                layer.eval()
                for param in layer.parameters():
                    param.requires_grad_(False)

    assert check("pitfall_freeze_bn", finetune_probe(pitfall_freeze_bn)).passed
    assert check("bn_forward", lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + b).passed


# ------------------------------------------------------------------ signature advice
def test_signature_advice_for_a_check_through_a_wrapper():
    def pitfall_freeze_bn(model):
        model.eval()

    result = check("pitfall_freeze_bn", pitfall_freeze_bn)  # the learner dropped finetune_probe(...)
    assert not result.passed
    assert 'check("pitfall_freeze_bn", finetune_probe(pitfall_freeze_bn))' in result.message
    assert "run the check cell unchanged" in result.message
    assert "exactly these parameters" not in result.message


def test_signature_advice_for_a_direct_check():
    result = check("bn_forward", lambda x, gamma: x)
    assert "calls your function as bn_forward(x, gamma, beta, eps)" in result.message
    assert "exactly these parameters, in this order" in result.message


# ------------------------------------------------------------------ misconceptions only when reproduced
def test_momentum_zero_is_not_told_its_statistics_moved():
    from companion.experiments.finetune import finetune_probe

    def pitfall_freeze_bn(model):
        for layer in model.modules():
            if isinstance(layer, nn.modules.batchnorm._BatchNorm):
                layer.momentum = 0.0  # statistics stay put, but the layer still normalizes with batch statistics
                for param in layer.parameters():
                    param.requires_grad_(False)

    from torch import nn

    result = check("pitfall_freeze_bn", finetune_probe(pitfall_freeze_bn))
    assert not result.passed
    assert result.misconception != "only_requires_grad"
    assert "still moved" not in result.message


def test_a_variance_scaled_by_n_over_n_minus_2_is_not_told_about_eps():
    def bn_forward(x, gamma, beta, eps=1e-5):
        n = x.shape[0]
        with np.errstate(divide="ignore"):
            var = x.var(axis=0) * n / (n - 2)  # inf for the hidden batch of 2
        return gamma * (x - x.mean(axis=0)) / np.sqrt(var + eps) + beta

    result = check("bn_forward", bn_forward)
    assert not result.passed
    assert result.misconception is None
    assert "without eps" not in result.message and "standard deviation" not in result.message


# ------------------------------------------------------------------ formatted verdicts
def test_verdicts_render_code_as_code_in_html_and_cleanly_as_text():
    result = check("bnworked_example_var", None) if "bnworked_example_var" in registry.names() else None
    result = result or check(next(q.name for q in registry.exercises() if q.kind == "numeric"), None)
    html = result._repr_html_()
    assert f"<code>answer_{result.name} = None</code>" in html and "`" not in html
    assert "`" not in result.message and "`" not in repr(result)
    assert to_html("use `x.var(ddof=0)` <here>") == "use <code>x.var(ddof=0)</code> &lt;here&gt;"
    assert plain("use `x.var(ddof=0)`") == "use x.var(ddof=0)"


# ------------------------------------------------------------------ first check in a fresh interpreter
def test_first_check_in_a_fresh_interpreter_loads_only_its_bank():
    code = textwrap.dedent("""
        import sys, time
        start = time.perf_counter()
        from companion.exercises import check
        def bn_forward(x, gamma, beta, eps=1e-5):
            raise NotImplementedError
        result = check("bn_forward", bn_forward)
        seconds = time.perf_counter() - start
        banks = sorted(m for m in sys.modules if m.startswith("companion.exercises.bank."))
        print(result.status, "torch" in sys.modules, ",".join(banks), seconds)
    """)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    status, torch_loaded, banks, seconds = out.stdout.split()
    assert status == "todo"
    assert torch_loaded == "False"
    assert banks == "companion.exercises.bank.exercises"
    print(f"first check in a fresh interpreter: {float(seconds):.3f} s (total {time.perf_counter() - start:.2f} s)")


# ------------------------------------------------------------------ nbgrader's autograder
def test_a_failing_check_raises_for_nbgrader_when_asked(monkeypatch):
    def bn_forward(x, gamma, beta, eps=1e-5):
        raise NotImplementedError

    assert check("bn_forward", bn_forward).status == "todo"
    monkeypatch.setenv("ND_EXERCISES_RAISE", "1")
    with pytest.raises(AssertionError, match="not attempted yet"):
        check("bn_forward", bn_forward)
    ok = check("bn_forward", lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + b)
    assert ok.passed
