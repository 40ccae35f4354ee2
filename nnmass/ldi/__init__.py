"""Layerwise dynamical isometry (Definition 2): exact Jacobian spectra at initialization.

``nnmass.ldi.measure(model, inputs)`` measures, for every layer of a network nnmass
built, the singular values of ``J_i = D_i W_i`` (``W_i`` the full weight matrix
including skip columns, ``D_i = diag(phi'(h_i))`` per sample):

- ``DenseMLP``: exact, every sample and hidden layer in one batched SVD (:mod:`.mlp`).
- ``DenseCNN``: exact rows of the layer Jacobian at sampled output positions,
  channel-level, BN in eval mode (:mod:`.cnn`).
- torchvision ResNet/WRN, MobileNetV2, VGG, DenseNet: layers found by ``torch.fx``
  (conv/linear -> BN -> residual add -> activation, :mod:`.layer_paths`), convs
  at sampled positions as for ``DenseCNN`` (:mod:`.traced`); the same path measures
  the NB101, NB201 and TransNAS-Bench-101 class/regression networks, and
  :mod:`.support` refuses, by name, the networks where a layer has no exact
  ``J_i = D_i W_i`` (DARTS, factorized reductions, transposed convs, jigsaw).

It runs on the model's device; inputs are moved there.
"""
from .derivatives import activation_derivative
from .measurement import layer_spectra, measure
from .report import LDIReport
from .support import check_measurable
from .spectrum import LayerSpectrum

__all__ = ["LDIReport", "LayerSpectrum", "activation_derivative", "check_measurable", "layer_spectra", "measure"]
