"""Models built from the layers: a fully connected net and a three-layer conv net."""

from .cnn import ThreeLayerConvNet
from .fc_net import FullyConnectedNet

__all__ = ["FullyConnectedNet", "ThreeLayerConvNet"]
