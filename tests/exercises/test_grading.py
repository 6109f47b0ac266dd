"""The exercise registry and the core bank: references pass, every misconception is recognised."""
import numpy as np
import pytest

from companion.exercises import Mutant, check, register_code, register_question, registry

CORE = {
    "bn_forward": "f(x, gamma, beta, eps=1e-5)",
    "bn_backward": "f(dy, x, gamma, eps=1e-5)",
    "bn_running_update": "f(running_mean, running_var, x, momentum=0.1)",
    "bn_inference": "f(x, running_mean, running_var, gamma, beta, eps=1e-5)",
    "spatial_bn_forward": "f(x, gamma, beta, eps=1e-5)",
    "dropout_forward": "f(x, p, rng)",
    "dropout_backward": "f(dy, mask, p)",
    "layer_norm_forward": "f(x, gamma, beta, eps=1e-5)",
}

# The misconceptions the issue requires, as (exercise, mutant name).
REQUIRED_MISCONCEPTIONS = [
    ("bn_forward", "unbiased_variance"),
    ("bn_forward", "eps_outside_sqrt"),
    ("bn_forward", "stats_per_sample"),  # statistics over the wrong axis
    ("layer_norm_forward", "stats_per_feature"),  # ... and the other way round
    ("bn_forward", "no_affine"),  # gamma/beta missing
    ("bn_forward", "gamma_beta_swapped"),
    ("bn_running_update", "keras_momentum"),
    ("bn_running_update", "biased_running_var"),
    ("dropout_forward", "no_rescaling"),
    ("dropout_forward", "p_as_keep_probability"),
    ("dropout_backward", "p_as_keep_probability"),
    ("bn_backward", "stats_constant"),
    ("spatial_bn_forward", "per_pixel"),
]

ALL_MUTANTS = [(ex.name, m.name) for ex in registry.exercises() if ex.kind == "code" for m in ex.mutants]


def test_bank_modules_load_without_errors():
    assert registry.load_errors() == {}


@pytest.mark.parametrize("name", sorted(CORE))
def test_core_exercise_is_registered_with_its_fixed_signature(name):
    ex = registry.get(name)
    assert ex.kind == "code"
    assert ex.signature == CORE[name]


@pytest.mark.parametrize("name", [ex.name for ex in registry.exercises() if ex.kind == "code"])
def test_reference_passes(name):
    ex = registry.get(name)
    result = check(name, ex.reference)
    assert result.passed, result.message
    assert result.status == "pass"


@pytest.mark.parametrize("name", [ex.name for ex in registry.exercises() if ex.kind == "code"])
def test_untouched_stub_is_not_attempted(name):
    def stub(*args):
        raise NotImplementedError

    result = check(name, stub)
    assert not result.passed
    assert result.status == "todo"
    assert "not attempted yet" in repr(result)


@pytest.mark.parametrize("exercise, mutant", REQUIRED_MISCONCEPTIONS)
def test_required_misconception_is_registered(exercise, mutant):
    assert mutant in [m.name for m in registry.get(exercise).mutants]


@pytest.mark.parametrize("exercise, mutant", ALL_MUTANTS)
def test_every_mutant_is_rejected_with_its_own_hint(exercise, mutant):
    ex = registry.get(exercise)
    m = next(m for m in ex.mutants if m.name == mutant)
    result = check(exercise, m.fn)
    assert not result.passed
    assert result.status == "fail"
    assert result.misconception == mutant
    assert result.hint == m.hint
    assert m.hint in result.message
    assert m.hint in repr(result)


@pytest.mark.parametrize("exercise, mutant", [(e, m) for e, m in ALL_MUTANTS if e != "dropout_forward"])
def test_every_mutant_differs_from_the_reference_on_the_hidden_cases(exercise, mutant):
    ex = registry.get(exercise)
    m = next(m for m in ex.mutants if m.name == mutant)
    differs = False
    for case in ex.make_cases():
        ref, wrong = ex.reference(*case.values()), m.fn(*case.values())
        ref, wrong = (ref, wrong) if isinstance(ref, tuple) else ((ref,), (wrong,))
        differs |= any(not np.allclose(w, r, rtol=ex.rtol, atol=ex.atol) for w, r in zip(wrong, ref))
    assert differs


def test_hidden_cases_are_deterministic_and_fresh():
    ex = registry.get("bn_forward")
    a, b = ex.make_cases(), ex.make_cases()
    assert len(a) >= 4
    assert len({c["x"].shape for c in a}) >= 3  # several shapes
    for ca, cb in zip(a, b):
        np.testing.assert_array_equal(ca["x"], cb["x"])
        assert ca["x"] is not cb["x"]


def test_bn_forward_cases_include_a_small_variance_batch():
    ex = registry.get("bn_forward")
    smallest = min(float(c["x"].var(axis=0).min()) for c in ex.make_cases())
    assert smallest < 1e-5  # below eps: a misplaced or missing eps is visible


def test_a_wrong_answer_that_is_no_known_misconception_gets_no_hint():
    result = check("bn_forward", lambda x, gamma, beta, eps=1e-5: gamma * (x - x.mean(0)) + beta)
    assert not result.passed
    assert result.hint is None and result.misconception is None
    assert "y differs from the expected values" in result.message


def test_two_misconceptions_at_once_are_not_misattributed():
    def both(x, gamma, beta, eps=1e-5):  # unbiased variance AND eps outside the root
        return gamma * (x - x.mean(0)) / (x.std(0, ddof=1) + eps) + beta

    result = check("bn_forward", both)
    assert not result.passed and result.misconception is None


def test_partly_right_backward_names_the_wrong_output():
    ref = registry.get("bn_backward").reference

    def wrong_dbeta(dy, x, gamma, eps=1e-5):
        dx, dgamma, dbeta = ref(dy, x, gamma, eps)
        return dx, dgamma, dbeta * 2

    result = check("bn_backward", wrong_dbeta)
    assert not result.passed
    assert result.message.startswith("dbeta differs")


# ------------------------------------------------------------------------------------------ dropout invariants
def test_dropout_forward_accepts_any_correct_way_to_draw_the_mask():
    def via_binomial(x, p, rng):
        mask = rng.binomial(1, 1 - p, size=x.shape).astype(bool)
        return np.where(mask, x / (1 - p), 0.0), mask

    def via_uniform_below(x, p, rng):
        mask = rng.uniform(size=x.shape) < 1 - p
        return x * mask / (1 - p), mask

    for fn in (via_binomial, via_uniform_below):
        result = check("dropout_forward", fn)
        assert result.passed, result.message


def test_dropout_forward_keep_fraction_is_checked():
    def keeps_too_many(x, p, rng):
        mask = rng.random(x.shape) >= p / 2
        return x * mask / (1 - p), mask

    result = check("dropout_forward", keeps_too_many)
    assert not result.passed
    assert "your mask keeps" in result.message and result.misconception is None


def test_dropout_forward_mask_must_depend_on_rng_state():
    def fixed_mask(x, p, rng):
        mask = np.random.default_rng(0).random(x.shape) >= p
        return x * mask / (1 - p), mask

    result = check("dropout_forward", fixed_mask)
    assert not result.passed
    assert "different states gave the same mask" in result.message


def test_dropout_forward_mask_must_be_boolean():
    def float_mask(x, p, rng):
        mask = (rng.random(x.shape) >= p).astype(np.float64)
        return x * mask / (1 - p), mask

    result = check("dropout_forward", float_mask)
    assert not result.passed
    assert "mask has dtype float64, expected bool" in result.message


# ------------------------------------------------------------------------------------------ questions
def test_numeric_question(scratch_names):
    register_question("zz_numeric", answer=1.0, kind="numeric", rtol=1e-3,
                      wrong={0.707: "you divided by sqrt(2)"}, explanation="Because.")
    scratch_names.append("zz_numeric")
    assert check("zz_numeric", None).status == "todo"
    assert check("zz_numeric", 1.0004).passed
    assert check("zz_numeric", np.float32(1.0)).passed
    assert check("zz_numeric", np.array([1.0])).passed
    assert "Because." in check("zz_numeric", 1).message
    wrong = check("zz_numeric", 2 ** -0.5)
    assert not wrong.passed and wrong.hint == "you divided by sqrt(2)"
    other = check("zz_numeric", 3.0)
    assert not other.passed and other.hint is None
    assert "Expected a number, within 0.1 % of the right value (give at least 4 significant digits), got a str" in check("zz_numeric", "1.0").message
    assert not check("zz_numeric", True).passed
    assert "finite" in check("zz_numeric", float("nan")).message


def test_choice_question(scratch_names):
    register_question("zz_choice", answer="B", kind="choice", choices={"a": "keep", "b": "drop"},
                      wrong={"a": "p is the drop probability"})
    scratch_names.append("zz_choice")
    assert check("zz_choice", None).status == "todo"
    for ok in ("b", "B", " b ", "(b)"):
        assert check("zz_choice", ok).passed, ok
    wrong = check("zz_choice", "A")
    assert not wrong.passed and wrong.hint == "p is the drop probability"
    assert "not one of the choices a, b" in check("zz_choice", "c").message
    assert "letter" in check("zz_choice", 2).message


def test_register_validates_its_arguments(scratch_names):
    with pytest.raises(ValueError, match="identifier"):
        register_question("not a name", answer=1.0, kind="numeric")
    with pytest.raises(ValueError, match="kind must be"):
        register_question("zz_q", answer=1.0, kind="essay")
    with pytest.raises(ValueError, match="not one of the choices"):
        register_question("zz_q", answer="c", kind="choice", choices={"a": "x", "b": "y"})
    with pytest.raises(ValueError, match="within tolerance"):
        register_question("zz_q", answer=1.0, kind="numeric", rtol=1e-3, wrong={1.0001: "?"})
    with pytest.raises(ValueError, match="signature"):
        register_code("zz_c", signature="f(x", reference=abs, cases=lambda rng: [])
    with pytest.raises(TypeError, match="Mutant"):
        register_code("zz_c", signature="f(x)", reference=abs, cases=lambda rng: [], mutants=["wrong"])
    with pytest.raises(ValueError, match="already registered"):
        registry._add(registry.Question(name="bn_forward", answer=1.0, kind="numeric", module="elsewhere"))


def test_a_chapter_registers_its_own_code_exercise(scratch_names):
    register_code("zz_double", signature="f(x)", reference=lambda x: 2 * x,
                  cases=lambda rng: [dict(x=rng.normal(size=(3, 2))), dict(x=rng.normal(size=5))],
                  mutants=[Mutant("triple", "you tripled", lambda x: 3 * x)])
    scratch_names.append("zz_double")
    assert check("zz_double", lambda v: v + v).passed
    result = check("zz_double", lambda v: v * 3)
    assert result.misconception == "triple" and "you tripled" in result.message


def test_unknown_name_and_bad_arguments_are_reported_not_raised():
    result = check("bn_froward", lambda x: x)
    assert not result.passed and "no exercise named 'bn_froward'" in result.message
    assert "'bn_forward'" in result.message
    assert "needs two arguments" in check("bn_forward").message
    assert "exercise's name" in check(42, abs).message
    assert "expects your function" in check("bn_forward", 3.0).message
    assert "expects your function" in check("bn_forward", None).message


def test_an_exercise_that_returns_a_number(scratch_names):
    register_code("zz_total", signature="f(x)", reference=lambda x: float(x.sum()),
                  cases=lambda rng: [dict(x=rng.normal(size=(3, 2))), dict(x=rng.normal(size=5))],
                  mutants=[Mutant("mean_not_sum", "you averaged", lambda x: float(x.mean()))])
    scratch_names.append("zz_total")
    assert check("zz_total", lambda x: x.sum()).passed  # a NumPy scalar is a number too
    assert check("zz_total", lambda x: np.array(x.sum())).passed  # and so is a 0-d array
    assert check("zz_total", lambda x: x.mean()).misconception == "mean_not_sum"
    assert "y is a list of 1 items, expected a number" in check("zz_total", lambda x: [x.sum()]).message
    assert "y is a str, expected a number" in check("zz_total", lambda x: "1").message


# ------------------------------------------------------------------------------------------ rendering
def _stub(x, gamma, beta, eps=1e-5):
    raise NotImplementedError


@pytest.mark.parametrize("fn, status, words", [
    (registry.get("bn_forward").reference, "pass", "\u2714 bn_forward: passed"),
    (registry.get("bn_forward").mutants[0].fn, "fail", "\u2718 bn_forward: not passed"),
    (_stub, "todo", "\u2026 bn_forward: not attempted yet"),
])
def test_html_has_stable_hooks_and_says_the_verdict_in_words(fn, status, words):
    result = check("bn_forward", fn)
    html = result._repr_html_()
    assert html.startswith(f'<div class="nd-check nd-check-{status}" data-exercise="bn_forward"')
    assert html.count('class="nd-check ') == 1
    symbol, verdict = words.split(" bn_forward: ")
    assert f"<strong>{verdict}</strong>" in html and symbol in html
    assert repr(result).splitlines()[0] == words
    for forbidden in ("<script", "http", "src=", "<link", "0x"):
        assert forbidden not in html
    again = check("bn_forward", fn)
    assert (repr(again), again._repr_html_()) == (repr(result), html)  # deterministic: nbval stores them


def test_the_hint_is_its_own_element_in_html():
    m = registry.get("bn_forward").mutants[0]
    html = check("bn_forward", m.fn)._repr_html_()
    assert '<div class="nd-check-hint"><strong>Likely misconception:</strong> ' in html
    assert html.count("Likely misconception") == 1


def test_html_escapes_what_the_reader_wrote():
    def bn_forward(x, gamma, beta, eps=1e-5):
        print("<b>loud</b>")
        raise ValueError("<script>alert(1)</script>")

    result = check("bn_forward", bn_forward)
    html = result._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;loud&lt;/b&gt;" in html
    expected = "Your function raised ValueError: <script>alert(1)</script>"
    assert result.to_dict() == {"passed": False, "message": expected}


def test_an_exercise_can_set_its_own_time_limit(scratch_names):
    import time

    register_code("zz_slow", signature="f(x)", reference=lambda x: x.copy(),
                  cases=lambda rng: [dict(x=rng.normal(size=3))], time_limit=0.5)
    scratch_names.append("zz_slow")
    result = check("zz_slow", lambda x: time.sleep(30))
    assert not result.passed and "Too slow: stopped after 0.5 s" in result.message


def test_checks_are_logged_for_the_grading_cli(tmp_path, monkeypatch):
    import json

    from companion.exercises.grading import LOG_ENV

    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(LOG_ENV, str(log))
    check("bn_forward", _stub)
    check("bn_forward", registry.get("bn_forward").reference)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["exercise"], r["status"], r["passed"]) for r in records] == [
        ("bn_forward", "todo", False), ("bn_forward", "pass", True)]
