"""The tiny convolutional network of the normalization and dropout-variant chapters."""
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from companion.experiments.convnet import conv_output_size, make_convnet  # noqa: E402
from companion.experiments.data import load_digits_split  # noqa: E402
from companion.experiments.training import accuracy, train  # noqa: E402


def _types(model):
    return [type(m) for m in model]


def test_layers_and_output_shape():
    model = make_convnet((4, 8), 16, norm="batch")
    assert _types(model) == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Flatten,
                             nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear]
    assert model[3].stride == (2, 2) and model[0].stride == (1, 1)
    assert model[0].bias is None and model[7].bias is None  # normalized layers need no bias
    assert model[7].in_features == 8 * 4 * 4
    out = model(torch.zeros(3, 1, 8, 8))
    assert out.shape == (3, 10) and out.dtype == torch.float32


def test_group_norm_everywhere_or_only_in_the_conv_blocks():
    g = make_convnet((4, 8), 16, norm="group", num_groups=2)
    norms = [m for m in g if isinstance(m, nn.GroupNorm)]
    assert [(m.num_groups, m.num_channels) for m in norms] == [(2, 4), (2, 8), (2, 16)]
    conv_only = make_convnet((4, 8), 16, norm="batch", norm_head=False)
    assert nn.BatchNorm1d not in _types(conv_only) and conv_only[7].bias is not None
    # group norm treats each sample on its own: a batch of one works in training mode
    assert g(torch.zeros(1, 1, 8, 8)).shape == (1, 10)


def test_no_hidden_layer_no_norm_and_dropout_kinds():
    model = make_convnet((4, 6, 8), None, dropout=0.3, spatial_dropout=True)
    assert _types(model).count(nn.Dropout2d) == 3 and nn.BatchNorm2d not in _types(model)
    assert model[-1].in_features == 8 * 2 * 2  # 8 -> 8 -> 4 -> 2
    assert _types(make_convnet((4,), None, dropout=0.3)).count(nn.Dropout) == 1
    assert [conv_output_size(s, 2) for s in (8, 7, 4, 2, 1)] == [4, 4, 2, 1, 1]


def test_seed_fixes_the_weights():
    a, b, c = (make_convnet(seed=s) for s in (0, 0, 1))
    assert torch.equal(a[0].weight, b[0].weight) and not torch.equal(a[0].weight, c[0].weight)


def test_it_learns_the_digits():
    X, y, Xt, yt = load_digits_split(n_train=600, images=True)
    model = make_convnet(norm="batch")
    train(model, X, y, epochs=3, batch_size=32, lr=0.1)
    assert accuracy(model, Xt, yt) > 0.8


@pytest.mark.parametrize("kwargs, message", [
    (dict(channels=()), "at least one"),
    (dict(channels=(4, 0)), "channels"),
    (dict(hidden=0), "hidden"),
    (dict(norm="layer"), "norm must be"),
    (dict(norm="group", num_groups=3), "must divide"),
    (dict(dropout=1.0), "dropout"),
    (dict(image_size=2.5), "image_size"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_convnet(**kwargs)
