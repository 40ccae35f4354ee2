"""Train many small DenseNet-type MLPs as one batched computation.

The paper's MNIST study is hundreds of width-8 MLPs. Models that share
``input_dim, width, depth, tc, num_classes, activation`` have equal weight shapes
(``t_i = min(w (i-1), tc)`` fixes every fan-in), so their weights stack along a
leading model axis and each layer becomes one ``bmm``; their different sampled
skips become a per-model index tensor for one ``gather``. All models of a group
see the same batches (one shuffling generator seeded by ``config.seed``), which is
exactly what training each alone with that config does, so the results match
one-by-one training up to float rounding.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

from ..models import build
from ..models.dense import DenseMLP, make_activation
from ..spec import DenseMLPSpec, Spec
from .config import TrainConfig
from .loop import run_epochs, train
from .result import TrainResult


def shape_key(spec: Spec):
    """Specs with equal keys can be stacked; ``None`` for specs that cannot."""
    if not isinstance(spec, DenseMLPSpec):
        return None
    return (spec.input_dim, spec.width, spec.depth, spec.tc, spec.num_classes, spec.activation, spec.layout)


class StackedDenseMLP(nn.Module):
    """``M`` :class:`DenseMLP` s of one shape with stacked weights.

    ``weights[i]`` is ``(M, width, fan_in_i)`` and ``skip_index[i]`` ``(M, t_i)``: the
    flat indices (``j * width + channel``) of model ``m``'s skips into the
    concatenated outputs of layers ``0..i-2``. Since those indices are sorted, the
    gathered columns come in the order :class:`SkipGather` concatenates them. In the
    official layout the classifier is cell layer ``depth - 1`` and gathers its skips too.
    """

    def __init__(self, models: Sequence[DenseMLP]):
        super().__init__()
        keys = {shape_key(m.spec) for m in models}
        if len(models) == 0 or len(keys) != 1:
            raise ValueError("StackedDenseMLP needs one or more DenseMLPs of one shape")
        spec = models[0].spec
        self.num_models, self.width, self.depth = len(models), spec.width, len(models[0].layers)
        self.official = spec.layout == "official"
        stack = lambda get: nn.Parameter(torch.stack([get(m).detach().clone() for m in models]))
        self.weights = nn.ParameterList(stack(lambda m, i=i: m.layers[i].weight) for i in range(self.depth))
        self.biases = nn.ParameterList(stack(lambda m, i=i: m.layers[i].bias) for i in range(self.depth))
        self.classifier_weight = stack(lambda m: m.classifier.weight)
        self.classifier_bias = stack(lambda m: m.classifier.bias)
        for i in range(spec.depth):  # the classifier's skips too, in the official layout
            idx = torch.tensor([list(m.spec.skips[i]) for m in models], dtype=torch.long).view(len(models), -1)
            self.register_buffer(f"skip_index{i}", idx.to(self.weights[0].device), persistent=False)
        self.act = make_activation(spec.activation)
        self.specs = [m.spec for m in models]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, ...)`` shared by all models -> logits ``(M, B, classes)``."""
        x = x.flatten(1)
        h = self.act(torch.einsum("bd,mwd->mbw", x, self.weights[0]) + self.biases[0][:, None, :])
        history = [h]
        for i in range(1, self.depth):
            inp = self._with_skips(h, history, i)
            h = self.act(torch.baddbmm(self.biases[i][:, None, :], inp, self.weights[i].transpose(1, 2)))
            history.append(h)
        if self.official:
            h = self._with_skips(h, history, self.depth)
        return torch.baddbmm(self.classifier_bias[:, None, :], h, self.classifier_weight.transpose(1, 2))

    def _with_skips(self, h: torch.Tensor, history: list[torch.Tensor], i: int) -> torch.Tensor:
        """Cell layer ``i``'s input: ``h`` with its skip columns from layers ``0..i-2`` gathered."""
        idx = getattr(self, f"skip_index{i}")
        if not idx.shape[1]:
            return h
        earlier = torch.cat(history[: i - 1], dim=2)
        picked = torch.gather(earlier, 2, idx[:, None, :].expand(-1, h.shape[1], -1))
        return torch.cat([h, picked], dim=2)

    def model_state(self, m: int) -> dict[str, torch.Tensor]:
        """Model ``m``'s parameters as a :class:`DenseMLP` ``state_dict``."""
        state = {}
        for i in range(self.depth):
            state[f"layers.{i}.weight"] = self.weights[i][m].detach().clone()
            state[f"layers.{i}.bias"] = self.biases[i][m].detach().clone()
        state["classifier.weight"] = self.classifier_weight[m].detach().clone()
        state["classifier.bias"] = self.classifier_bias[m].detach().clone()
        return state


def train_stacked(stacked: StackedDenseMLP, data, config: TrainConfig,
                  progress: Callable[[int, dict], None] | None = None) -> list[TrainResult]:
    """Train every model of ``stacked`` at once; one result per model."""
    stacked.to(config.device)
    return run_epochs(stacked, stacked, stacked.num_models, data, config, progress)


def train_many(specs: Sequence[Spec], data, config: TrainConfig, init_seeds: Sequence[int] | None = None,
               progress: Callable[[int, dict], None] | None = None, max_group: int | None = None
               ) -> list[TrainResult]:
    """Train ``specs`` on ``data``; results in the order of ``specs``.

    DenseMLP specs of one shape (see :func:`shape_key`) train as one stacked model;
    other specs train one by one. Each model's weights are initialised by
    ``build(spec, seed=init_seeds[k])`` (``config.seed`` for all when omitted), as
    the caller of :func:`train` would.

    Args:
        specs: the architectures.
        data: a :class:`nnmass.data.Data` (already fitted to the specs).
        config: one config for all; ``config.seed`` fixes the common batch order.
        init_seeds: weight-init seed per spec.
        progress: called with ``(index into specs, epoch record)``.
        max_group: most models per stacked group (bounds memory); ``None`` for no limit.
    """
    specs = list(specs)
    seeds = [config.seed] * len(specs) if init_seeds is None else list(init_seeds)
    if len(seeds) != len(specs):
        raise ValueError(f"init_seeds has {len(seeds)} entries for {len(specs)} specs")
    results: list[TrainResult | None] = [None] * len(specs)
    groups: dict = {}
    for k, spec in enumerate(specs):
        key = shape_key(spec)
        groups.setdefault(("single", k) if key is None else key, []).append(k)
    for members in groups.values():
        step = len(members) if max_group is None else max(1, max_group)
        for lo in range(0, len(members), step):
            chunk = members[lo:lo + step]
            models = [build(specs[k], seed=seeds[k]) for k in chunk]
            if len(chunk) == 1:
                one = chunk[0]
                results[one] = train(models[0], data, config,
                                     None if progress is None else (lambda rec, one=one: progress(one, rec)))
                continue
            stacked = StackedDenseMLP(models)
            out = train_stacked(stacked, data, config,
                                None if progress is None else (lambda m, rec, chunk=chunk: progress(chunk[m], rec)))
            for k, r in zip(chunk, out):
                results[k] = r
    return results
