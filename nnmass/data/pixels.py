"""How image pixels reach a model: standardised per channel, or left in [0, 1].

Pure tensor methods and no torch import, so grids can name the choices without torch.
"""
from __future__ import annotations

# "standardised": per channel, with the training split's mean and std. "unit": scaled to
# [0, 1] only, as the authors' MNIST scripts feed them (ToTensor with no Normalize).
PIXELS = ("standardised", "unit")


def scale_pixels(train_x, test_x, pixels: str):
    """``(train, test, meta)`` in the chosen scale (pixels already in [0, 1])."""
    if pixels == "unit":
        return train_x, test_x, {"pixels": "unit"}
    train_x, test_x, mean, std = standardise(train_x, test_x)
    return train_x, test_x, {"pixels": "standardised", "mean": mean, "std": std}


def standardise(train_x, test_x):
    """Standardise ``(N, C, ...)`` images per channel with the *train* split's mean/std.

    Pixels are expected in [0, 1] already. Statistics come from the training split
    only, so nothing about the test set leaks into the inputs. Returns the two
    tensors and the per-channel mean and std as lists.
    """
    dims = [0] + list(range(2, train_x.dim()))
    mean = train_x.mean(dim=dims, keepdim=True)
    std = train_x.std(dim=dims, keepdim=True).clamp_min(1e-8)
    return ((train_x - mean) / std, (test_x - mean) / std,
            mean.flatten().tolist(), std.flatten().tolist())
