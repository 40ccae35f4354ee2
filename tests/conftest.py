"""Shared test settings and fixtures."""
import hashlib
import pickle

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """One intra-op thread: the tensors in these tests are tiny, and on a shared 2-core
    machine a second spinning thread makes small ops many times slower. (Torch-free
    imports are checked in subprocesses, so importing torch here hides nothing.)"""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def tiny_cifar(tmp_path, monkeypatch):
    """``tiny_cifar(hundred=False)`` writes tiny CIFAR-10 (or -100) pickles under
    ``tmp_path`` and returns ``(torchvision class, folder, {file: (data, labels)})``."""
    def write(hundred: bool = False):
        """Tiny CIFAR pickles. torchvision verifies each file's MD5 against the real
        archive's; we point its checksum table at our files' MD5s, so the real loading
        code, integrity check included, runs unchanged."""
        from torchvision.datasets import CIFAR10, CIFAR100
        cls = CIFAR100 if hundred else CIFAR10
        folder = tmp_path / cls.base_folder
        folder.mkdir()
        rng = np.random.default_rng(1)
        label_key = "fine_labels" if hundred else "labels"
        classes = 100 if hundred else 10
        written = {}
        for fname, _ in cls.train_list + cls.test_list:
            n = 4
            data = rng.integers(0, 256, (n, 3072)).astype(np.uint8)
            labels = [int(v) for v in rng.integers(0, classes, n)]
            with open(folder / fname, "wb") as f:
                pickle.dump({"data": data, label_key: labels}, f)
            written[fname] = (data, labels)
        with open(folder / cls.meta["filename"], "wb") as f:
            pickle.dump({cls.meta["key"]: [f"class{i}" for i in range(classes)]}, f)
        monkeypatch.setattr(cls, "train_list", [[n, _md5(folder / n)] for n, _ in cls.train_list])
        monkeypatch.setattr(cls, "test_list", [[n, _md5(folder / n)] for n, _ in cls.test_list])
        monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": _md5(folder / cls.meta["filename"])})
        return cls, folder, written
    return write
