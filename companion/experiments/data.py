"""The book's real dataset: scikit-learn's bundled handwritten digits (nothing is downloaded).

1,797 grey-scale 8x8 images of the digits 0-9, pixel values 0-16 :cite:p:`sklearn_digits`.
"""
import numpy as np

__all__ = ["load_digits_split"]


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
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
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
