"""The book's real dataset: scikit-learn's bundled handwritten digits (nothing is downloaded).

1,797 grey-scale 8x8 images of the digits 0-9, pixel values 0-16 :cite:p:`sklearn_digits`.
"""
import functools
import importlib.util
from pathlib import Path

import numpy as np

__all__ = ["load_digits", "load_digits_split"]


@functools.lru_cache(maxsize=1)
def _digits_arrays():
    csv = None
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.submodule_search_locations:
        csv = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"
    if csv is None or not csv.is_file():  # another scikit-learn layout: let it read its own file
        from sklearn.datasets import load_digits as sklearn_load_digits

        X, y = sklearn_load_digits(return_X_y=True)
        return X, y
    data = np.loadtxt(csv, delimiter=",")
    return data[:, :-1], data[:, -1].astype(int)


def load_digits():
    """The 1,797 digits as ``(X, y)``, exactly as ``sklearn.datasets.load_digits(return_X_y=True)``.

    Read from the CSV file that scikit-learn ships (``sklearn/datasets/data/digits.csv.gz``) the way
    scikit-learn reads it, without importing scikit-learn (and SciPy): that import takes a second or
    more, in every chapter that uses the digits.

    Returns
    -------
    X : numpy.ndarray of float64, shape (1797, 64)
        Pixel values 0-16.
    y : numpy.ndarray of int, shape (1797,)
        The digit shown, 0-9.
    """
    X, y = _digits_arrays()
    return X.copy(), y.copy()


def load_digits_split(n_train=1200, seed=0, standardize=True, images=False, dtype=np.float32):
    """Shuffle the digits once and split them into a training and a test set.

    Parameters
    ----------
    n_train : int
        Number of training samples (1 <= n_train < 1797); the remaining ``1797 - n_train``
        form the test set. Use a small value to provoke overfitting.
    seed : int
        Seed of the shuffle.
    standardize : bool
        If True, subtract the per-pixel training mean and divide by the per-pixel training
        standard deviation (pixels that are constant in the training set get a scale of 1).
        If False, pixels are divided by 16 so that they lie in [0, 1].
    images : bool
        Return inputs of shape ``(N, 1, 8, 8)`` (for convolutional layers) instead of ``(N, 64)``.
    dtype : numpy dtype
        dtype of the inputs (labels are int64).

    Returns
    -------
    X_train : numpy.ndarray, shape (n_train, 64) or (n_train, 1, 8, 8)
    y_train : numpy.ndarray of int64, shape (n_train,)
    X_test : numpy.ndarray, shape (1797 - n_train, 64) or (1797 - n_train, 1, 8, 8)
    y_test : numpy.ndarray of int64, shape (1797 - n_train,)
    """
    X, y = load_digits()
    if not (isinstance(n_train, (int, np.integer)) and 1 <= n_train < len(X)):
        raise ValueError(f"n_train must be an integer in [1, {len(X) - 1}], got {n_train!r}")
    order = np.random.default_rng(seed).permutation(len(X))
    X, y = X[order].astype(np.float64), y[order].astype(np.int64)
    X_train, X_test = X[:n_train], X[n_train:]
    if standardize:
        mean = X_train.mean(axis=0)
        std = X_train.std(axis=0)
        std[std == 0] = 1.0
        X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    else:
        X_train, X_test = X_train / 16.0, X_test / 16.0
    if images:
        X_train, X_test = X_train.reshape(-1, 1, 8, 8), X_test.reshape(-1, 1, 8, 8)
    return X_train.astype(dtype), y[:n_train], X_test.astype(dtype), y[n_train:]
