"""companion.experiments.data: the digits split the chapters train on."""
import numpy as np
import pytest

from companion.experiments.data import load_digits_split


def test_split_shapes_dtypes_and_standardization():
    X_train, y_train, X_test, y_test = load_digits_split(n_train=1000, seed=3)
    assert X_train.shape == (1000, 64) and X_test.shape == (797, 64)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64 and y_test.shape == (797,)
    varying = X_train.std(axis=0) > 0
    np.testing.assert_allclose(X_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(X_train.std(axis=0)[varying], 1.0, rtol=1e-4)


def test_seed_images_and_raw_scale():
    a = load_digits_split(n_train=10, seed=1, standardize=False, images=True, dtype=np.float64)
    b = load_digits_split(n_train=10, seed=1, standardize=False, images=True, dtype=np.float64)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert a[0].shape == (10, 1, 8, 8) and 0.0 <= a[0].min() and a[0].max() <= 1.0
    assert not np.array_equal(a[1], load_digits_split(n_train=10, seed=2)[1])


@pytest.mark.parametrize("n_train", [0, 1797, 2.5])
def test_n_train_must_leave_a_test_set(n_train):
    with pytest.raises(ValueError, match="n_train must be an integer"):
        load_digits_split(n_train=n_train)


def test_load_digits_is_scikit_learns_dataset_without_importing_it():
    import subprocess
    import sys

    from sklearn.datasets import load_digits as sklearn_load_digits

    from companion.experiments.data import load_digits

    X, y = load_digits()
    X_ref, y_ref = sklearn_load_digits(return_X_y=True)
    assert X.dtype == X_ref.dtype and X.shape == (1797, 64)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)
    X[0, 0] = -1.0  # a copy: the cached arrays stay intact
    assert load_digits()[0][0, 0] == X_ref[0, 0]
    code = ("import sys\nfrom companion.experiments.data import load_digits_split\nload_digits_split()\n"
            "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"loading the digits imported {out.strip()}"
