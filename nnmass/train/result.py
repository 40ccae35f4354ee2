"""What training returns: numbers per epoch, plain floats."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..json_values import jsonable


@dataclass
class TrainResult:
    """The outcome of training one model.

    Attributes:
        history: one dict per epoch run: ``epoch, train_loss, train_acc, test_loss, test_acc``
            (floats; the train numbers are running means over that epoch's batches).
        test_acc, test_loss, train_acc, train_loss: those of the last epoch run.
        diverged: the loss became NaN/inf; training stopped after that epoch.
        seconds: wall time; models trained as one batched group share it equally.
        config: the training config as a dict.
    """

    history: list[dict] = field(default_factory=list)
    diverged: bool = False
    seconds: float = 0.0
    config: dict = field(default_factory=dict)

    def _last(self, key: str) -> float:
        return self.history[-1][key] if self.history else float("nan")

    # The last epoch's values (nan before any epoch).
    test_acc = property(lambda self: self._last("test_acc"))
    test_loss = property(lambda self: self._last("test_loss"))
    train_acc = property(lambda self: self._last("train_acc"))
    train_loss = property(lambda self: self._last("train_loss"))

    def to_dict(self) -> dict:
        """JSON-ready: NaN/inf (a diverged loss) become ``None``."""
        history = [{k: jsonable(v) for k, v in rec.items()} for rec in self.history]
        return {"test_acc": jsonable(self.test_acc), "train_acc": jsonable(self.train_acc),
                "test_loss": jsonable(self.test_loss), "train_loss": jsonable(self.train_loss),
                "diverged": self.diverged, "seconds": self.seconds, "history": history,
                "config": dict(self.config)}
