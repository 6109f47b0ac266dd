"""Small torch models shared by the experiment tests."""
from torch import nn


def dropout_bn(p, width=5):
    """Linear(4, width) -> ReLU -> Dropout(p) -> BatchNorm1d(width): dropout right before batch norm."""
    return nn.Sequential(nn.Linear(4, width), nn.ReLU(), nn.Dropout(p), nn.BatchNorm1d(width))
