"""Small PyTorch models and a deterministic training loop for the book's experiments.

Every chapter that trains a network uses these, so that the experiments are comparable
and each chapter only shows what is new. Everything runs on the CPU in seconds.
"""
import itertools

import numpy as np

__all__ = ["SGD", "accuracy", "accuracy_in_train_mode", "make_mlp", "predict", "train"]


def make_mlp(sizes, *, norm=None, dropout=0.0, activation="relu", norm_before_activation=True, seed=0):
    """A fully connected network ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first and number of classes last (at least two entries).
    norm : None, "batch" or "layer"
        Normalization after every hidden linear layer (``nn.BatchNorm1d`` or ``nn.LayerNorm``).
    dropout : float
        Drop probability of an ``nn.Dropout`` after every hidden activation (0 means none).
    activation : "relu", "sigmoid", "tanh" or "selu"
    norm_before_activation : bool
        Place the normalization between the linear layer and the activation (True, as in
        Ioffe & Szegedy) or after the activation (False).
    seed : int
        Seed of the weight initialisation.

    Returns
    -------
    torch.nn.Sequential
        float32 model on the CPU, in training mode.
    """
    import torch
    from torch import nn

    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width, got {sizes!r}")
    acts = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "selu": nn.SELU}
    if activation not in acts:
        raise ValueError(f"activation must be one of {sorted(acts)}, got {activation!r}")
    norms = {None: None, "batch": nn.BatchNorm1d, "layer": nn.LayerNorm}
    if norm not in norms:
        raise ValueError(f"norm must be None, 'batch' or 'layer', got {norm!r}")
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i == len(sizes) - 2:
            break
        block = [acts[activation]()]
        if norm is not None:
            n = norms[norm](b)
            block = [n] + block if norm_before_activation else block + [n]
        layers += block
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class SGD:
    """Stochastic gradient descent with momentum, step for step identical to ``torch.optim.SGD``.

    (Creating a ``torch.optim`` optimizer imports ``torch._dynamo``, which costs seconds; this
    plain loop does the same arithmetic in the same order, so results are bit-for-bit equal.)

    Parameters
    ----------
    params : iterable of torch.nn.Parameter
    lr, momentum, weight_decay : float
        As in ``torch.optim.SGD`` (no dampening, no Nesterov).
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.buffers = [None] * len(self.params)

    def zero_grad(self):
        """Forget the gradients of the last step (``set_to_none``, as torch does by default)."""
        for p in self.params:
            p.grad = None

    def step(self):
        """Update every parameter that has a gradient.

        The per-parameter arithmetic of ``torch.optim.SGD`` (``g + wd * p``, ``buf * momentum + g``,
        ``p - lr * buf``), done for all parameters at once with ``torch._foreach_*`` (one call per
        operation instead of one per parameter: the same numbers, less Python per step).
        """
        import torch

        with torch.no_grad():
            live = [i for i, p in enumerate(self.params) if p.grad is not None]
            if not live:
                return
            params = [self.params[i] for i in live]
            grads = [p.grad for p in params]
            if self.weight_decay != 0:
                grads = torch._foreach_add(grads, params, alpha=self.weight_decay)
            if self.momentum != 0:
                started = [k for k, i in enumerate(live) if self.buffers[i] is not None]
                if started:  # buf = momentum * buf + g
                    bufs = [self.buffers[live[k]] for k in started]
                    torch._foreach_mul_(bufs, self.momentum)
                    torch._foreach_add_(bufs, [grads[k] for k in started])
                for k, i in enumerate(live):
                    if self.buffers[i] is None:  # first step: buf = g
                        self.buffers[i] = torch.clone(grads[k]).detach()
                grads = [self.buffers[i] for i in live]
            torch._foreach_add_(params, grads, alpha=-self.lr)


def predict(model, X, batch_size=2048):
    """Class scores of ``model`` on ``X`` (NumPy or tensor), in eval mode without gradients.

    The model's training/eval mode is restored afterwards. Returns a float32 NumPy array
    of shape ``(N, num_classes)``.
    """
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            X = torch.as_tensor(X)
            out = torch.cat([model(X[i : i + batch_size]) for i in range(0, len(X), batch_size)])
    finally:
        model.train(was_training)
    return out.numpy()


def accuracy(model, X, y):
    """Fraction of ``X`` that ``model`` (in eval mode) classifies as ``y``; a float in [0, 1]."""
    return float(np.mean(predict(model, X).argmax(axis=1) == np.asarray(y)))


def accuracy_in_train_mode(model, X, y, batch_size, order):
    """The classic bug, on purpose: accuracy of ``model`` left in training mode at test time.

    A copy of the model (the original is untouched) predicts ``X`` in training mode, in batches
    of ``batch_size`` taken in the given ``order``, so every BatchNorm layer normalizes with the
    statistics of each test batch (and dropout stays on). A last batch of one sample is skipped
    (BatchNorm cannot use batch statistics of one value).

    Parameters
    ----------
    model : torch.nn.Module
    X : numpy.ndarray, shape (N, ...), float32
    y : numpy.ndarray of int, shape (N,)
    batch_size : int
        Test samples per forward pass (>= 2).
    order : numpy.ndarray of int, shape (N,)
        A permutation of ``range(N)``: e.g. random, or sorted by class to make batches unbalanced.

    Returns
    -------
    float
        Fraction of the predicted samples that are classified correctly.
    """
    import copy

    import torch

    if not (isinstance(batch_size, (int, np.integer)) and batch_size >= 2):
        raise ValueError(f"batch_size must be an integer >= 2, got {batch_size!r}")
    order = np.asarray(order)
    if sorted(order.tolist()) != list(range(len(X))):
        raise ValueError("order must be a permutation of range(len(X))")
    model = copy.deepcopy(model).train()
    correct = seen = 0
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            if len(idx) < 2:
                continue
            correct += int((model(torch.as_tensor(X[idx])).argmax(1).numpy() == np.asarray(y)[idx]).sum())
            seen += len(idx)
    return correct / seen


def train(model, X, y, *, epochs=10, batch_size=64, lr=0.1, momentum=0.9, weight_decay=0.0, optimizer="sgd",
          seed=0, X_test=None, y_test=None, eval_every=None, callback=None):
    """Train ``model`` with cross-entropy on mini-batches, deterministically.

    Parameters
    ----------
    model : torch.nn.Module
    X : numpy.ndarray, shape (N, ...), float32
    y : numpy.ndarray of int, shape (N,)
    epochs, batch_size : int
        The last, incomplete batch of an epoch is dropped (BatchNorm cannot use a batch of 1).
    lr, momentum, weight_decay : float
        SGD (or Adam, with ``optimizer="adam"``, which ignores ``momentum``) hyper-parameters.
    seed : int
        Seed of the shuffling and of dropout masks.
    X_test, y_test : numpy.ndarray, optional
        Evaluated (accuracy, eval mode) every ``eval_every`` steps and at the end.
    eval_every : int, optional
        Steps between evaluations (default: once per epoch).
    callback : callable, optional
        ``callback(step, model, loss)`` after every optimisation step.

    Returns
    -------
    dict
        ``loss`` (list of float, one per step), ``steps`` and ``test_acc`` (lists, one entry per
        evaluation), ``train_acc`` (final accuracy on X, y, eval mode) and ``diverged`` (True if
        the loss became non-finite; training then stops).
    """
    import torch
    import torch.nn.functional as F

    X = torch.as_tensor(X)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long)
    n = len(X)
    if batch_size > n:
        raise ValueError(f"batch_size ({batch_size}) is larger than the training set ({n})")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    if optimizer == "sgd":
        opt = SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    elif optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    per_epoch = n // batch_size
    eval_every = eval_every or per_epoch
    history = {"loss": [], "steps": [], "test_acc": [], "diverged": False}
    step = 0
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        # the epoch's samples in shuffled order, once: each batch is then a view (no gather per step)
        X_epoch, y_epoch = X[order], y[order]
        for b in range(per_epoch):
            batch = slice(b * batch_size, (b + 1) * batch_size)
            loss = F.cross_entropy(model(X_epoch[batch]), y_epoch[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            history["loss"].append(loss.item())
            if callback is not None:
                callback(step, model, history["loss"][-1])
            if not np.isfinite(history["loss"][-1]):
                history["diverged"] = True
                break
            if X_test is not None and step % eval_every == 0:
                history["steps"].append(step)
                history["test_acc"].append(accuracy(model, X_test, y_test))
        if history["diverged"]:
            break
    history["train_acc"] = accuracy(model, X.numpy(), y.numpy())
    if X_test is not None and (not history["steps"] or history["steps"][-1] != step):
        history["steps"].append(step)
        history["test_acc"].append(accuracy(model, X_test, y_test))
    return history
