"""Train and evaluate a module on a :class:`~nnmass.data.Data`.

One loop serves one model and a stack of ``M`` models trained at once
(:mod:`nnmass.train.batched`): the forward returns logits ``(M, B, classes)``, each
model's loss is its own batch mean, and their sum is back-propagated. Models share
no parameters, so the gradient of the sum w.r.t. model ``m``'s parameters is the
gradient of model ``m``'s own loss.
"""
from __future__ import annotations

import math
import time
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..modes import in_mode
from .config import TrainConfig
from .result import TrainResult

Forward = Callable[[torch.Tensor], torch.Tensor]


def train(model: nn.Module, data, config: TrainConfig, progress: Callable[[dict], None] | None = None
          ) -> TrainResult:
    """Train ``model`` (already initialised by the caller) on ``data``.

    Batch order and augmentation come from ``torch.Generator().manual_seed(config.seed)``.
    A NaN/inf loss ends training after that epoch with ``diverged=True`` (no exception).

    Args:
        model: any classifier taking ``data``'s inputs.
        data: a :class:`nnmass.data.Data`.
        config: a :class:`TrainConfig`.
        progress: called with each epoch's record as it finishes.
    """
    model.to(config.device)
    return run_epochs(model, lambda x: model(x).unsqueeze(0), 1, data, config,
                      None if progress is None else (lambda m, rec: progress(rec)))[0]


def evaluate(model: nn.Module, data, split: str = "test", batch_size: int = 1024,
             amp: bool = False) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on ``split``, as floats."""
    device = next(model.parameters()).device
    loss, acc = evaluate_stacked(model, lambda x: model(x).unsqueeze(0), data.to(device), split,
                                 batch_size, amp)
    return float(loss[0]), float(acc[0])


def evaluate_stacked(module: nn.Module, forward: Forward, data, split: str, batch_size: int,
                     amp: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-model mean loss and accuracy ``(M,)`` on ``split`` (one sync at the end)."""
    loss_sum = correct = None
    n = 0
    with in_mode(module, False), torch.no_grad():
        for xb, yb in data.batches(split, batch_size, shuffle=False, augment=False):
            with torch.autocast(xb.device.type, dtype=torch.bfloat16, enabled=amp):
                logits = forward(xb)
            losses, hits = _per_model(logits.float(), yb, 0.0, reduce="sum")
            loss_sum = losses if loss_sum is None else loss_sum + losses
            correct = hits if correct is None else correct + hits
            n += len(yb)
    return (loss_sum / n).cpu(), (correct.double() / n).cpu()


def _per_model(logits: torch.Tensor, y: torch.Tensor, smoothing: float, reduce: str):
    """Per-model loss (``mean`` or ``sum`` over the batch) and correct counts."""
    m, b, c = logits.shape
    losses = F.cross_entropy(logits.reshape(m * b, c), y.repeat(m), reduction="none",
                             label_smoothing=smoothing).view(m, b)
    hits = (logits.argmax(2) == y).sum(1)
    return (losses.mean(1) if reduce == "mean" else losses.sum(1)), hits


def make_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    # Both optimizers act elementwise (Adam's moments, SGD's momentum buffer, the L2
    # term), so one optimizer over stacked parameters equals one per model.
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                           weight_decay=config.weight_decay)


def make_schedule(optimizer, config: TrainConfig, total_steps: int):
    """Per-step cosine decay from ``lr`` to 0 over all steps, or a constant rate."""
    if config.schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    total = max(total_steps, 1)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))


def run_epochs(module: nn.Module, forward: Forward, num_models: int, data, config: TrainConfig,
               progress: Callable[[int, dict], None] | None = None) -> list[TrainResult]:
    """The loop behind :func:`train` and :func:`~nnmass.train.batched.train_stacked`.

    ``forward(x)`` gives logits ``(num_models, B, classes)``. Model ``m`` stops being
    recorded after the epoch its loss turns non-finite; training ends when all have.
    """
    start = time.perf_counter()
    device = torch.device(config.device)
    data = data.to(device)
    amp = config.use_amp
    optimizer = make_optimizer(module.parameters(), config)
    steps = math.ceil(data.size("train") / config.batch_size)
    schedule = make_schedule(optimizer, config, steps * config.epochs)
    generator = torch.Generator().manual_seed(config.seed)
    results = [TrainResult(config=config.to_dict()) for _ in range(num_models)]
    alive = list(range(num_models))
    for epoch in range(1, config.epochs + 1):
        module.train()
        loss_sum = torch.zeros(num_models, device=device, dtype=torch.float64)
        correct = torch.zeros(num_models, device=device, dtype=torch.int64)
        n = 0
        for xb, yb in data.batches("train", config.batch_size, generator):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                logits = forward(xb)
            losses, hits = _per_model(logits.float(), yb, config.label_smoothing, reduce="mean")
            optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()
            optimizer.step()
            schedule.step()
            # Accumulate on the device: one host sync per epoch, not per step.
            loss_sum += losses.detach().double() * len(yb)
            correct += hits
            n += len(yb)
        train_loss = (loss_sum / n).cpu()
        train_acc = (correct.double() / n).cpu()
        test_loss, test_acc = evaluate_stacked(module, forward, data, "test", config.eval_batch_size, amp)
        for m in list(alive):
            rec = {"epoch": epoch, "train_loss": float(train_loss[m]), "train_acc": float(train_acc[m]),
                   "test_loss": float(test_loss[m]), "test_acc": float(test_acc[m])}
            results[m].history.append(rec)
            if progress is not None:
                progress(m, rec)
            if not (math.isfinite(rec["train_loss"]) and math.isfinite(rec["test_loss"])):
                results[m].diverged = True
                alive.remove(m)
        if not alive:
            break
    share = (time.perf_counter() - start) / num_models
    for r in results:
        r.seconds = share
    return results
