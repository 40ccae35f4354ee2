"""Datasets: embedded sets, synthetic mixture, and the torchvision loaders read from
small files written here in the real on-disk formats."""
import struct

import numpy as np
import pytest
import torch

from nnmass.data import DATASETS, load_dataset, stratified_split
from nnmass.data.augment import crop_flip
from nnmass.errors import UsageError


# ---------------------------------------------------------------- embedded sets

def test_digits_split_is_stratified_fixed_and_disjoint():
    from sklearn.datasets import load_digits
    raw = load_digits()
    train_idx, test_idx = stratified_split(raw.target, 0.2, seed=3)
    assert len(np.intersect1d(train_idx, test_idx)) == 0
    assert np.array_equal(np.sort(np.concatenate([train_idx, test_idx])), np.arange(len(raw.target)))
    # every class contributes round(0.2 * n_c) examples to test
    for c in range(10):
        n_c = int((raw.target == c).sum())
        assert int((raw.target[test_idx] == c).sum()) == int(round(0.2 * n_c))

    data = load_dataset("digits", split_seed=3)
    assert data.input_shape == (1, 8, 8) and data.input_dim == 64 and data.num_classes == 10
    assert data.train_x.shape == (len(train_idx), 1, 8, 8) and data.test_x.shape == (len(test_idx), 1, 8, 8)
    # independent normalisation: /16, then the train split's mean and std
    pix = raw.data / 16.0
    mean, std = pix[train_idx].mean(), pix[train_idx].std(ddof=1)
    expect = (pix[test_idx] - mean) / std
    assert np.allclose(data.test_x.reshape(len(test_idx), -1).numpy(), expect, atol=1e-5)
    assert np.array_equal(data.train_y.numpy(), raw.target[train_idx])

    again = load_dataset("digits", split_seed=3)
    other = load_dataset("digits", split_seed=4)
    assert torch.equal(again.test_y, data.test_y) and torch.equal(again.test_x, data.test_x)
    assert not torch.equal(other.test_x, data.test_x)


def test_mnist_5k_shapes_and_balance():
    data = load_dataset("mnist-5k")
    assert data.train_x.shape == (4000, 1, 28, 28) and data.test_x.shape == (1000, 1, 28, 28)
    assert data.input_dim == 784 and data.num_classes == 10
    assert torch.bincount(data.test_y).tolist() == [100] * 10
    assert abs(float(data.train_x.mean())) < 1e-4 and abs(float(data.train_x.std()) - 1) < 1e-3


def test_synthetic_is_determined_by_its_seed():
    a = load_dataset("synthetic", split_seed=5, dim=6, num_classes=3, train_size=30, test_size=9)
    b = load_dataset("synthetic", split_seed=5, dim=6, num_classes=3, train_size=30, test_size=9)
    c = load_dataset("synthetic", split_seed=6, dim=6, num_classes=3, train_size=30, test_size=9)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.test_y, b.test_y)
    assert not torch.equal(a.train_x, c.train_x)
    assert a.input_shape == (6,) and torch.bincount(a.train_y).tolist() == [10, 10, 10]
    with pytest.raises(UsageError, match="num_classes"):
        load_dataset("synthetic", num_classes=1)


def test_batches_cover_the_split_once_in_seeded_order():
    data = load_dataset("synthetic", dim=3, train_size=50, test_size=7)
    order = lambda seed: torch.cat([y for _, y in data.batches("train", 16, torch.Generator().manual_seed(seed))])
    ys = [len(x) for x, _ in data.batches("train", 16, torch.Generator().manual_seed(0))]
    assert ys == [16, 16, 16, 2]
    assert torch.equal(order(1), order(1)) and not torch.equal(order(1), order(2))
    assert sorted(order(1).tolist()) == sorted(data.train_y.tolist())
    test = list(data.batches("test", 4))
    assert torch.equal(torch.cat([x for x, _ in test]), data.test_x)  # test: unshuffled
    with pytest.raises(UsageError, match="Generator"):
        next(data.batches("train", 4))


def test_crop_flip_matches_per_image_reference():
    x = torch.arange(2 * 3 * 5 * 5, dtype=torch.float32).view(2, 3, 5, 5)
    out = crop_flip(x, torch.Generator().manual_seed(7), pad=2)
    g = torch.Generator().manual_seed(7)  # replay the same draws
    dy, dx = torch.randint(0, 5, (2,), generator=g), torch.randint(0, 5, (2,), generator=g)
    flip = torch.rand(2, generator=g) < 0.5
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(2):
        ref = padded[i, :, dy[i]:dy[i] + 5, dx[i]:dx[i] + 5]
        if flip[i]:
            # flipping then cropping at dx == cropping at dx and reading the window backwards
            ref = padded[i, :, dy[i]:dy[i] + 5, dx[i]:dx[i] + 5].flip(-1)
        assert torch.equal(out[i], ref)


def test_unknown_name_and_missing_root_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="valid: mnist-5k, digits"):
        load_dataset("svhn")
    for name in ("mnist", "fashion-mnist", "cifar10", "cifar100", "imagenet"):
        with pytest.raises(UsageError, match="--data-root"):
            load_dataset(name)
        with pytest.raises(UsageError, match=str(tmp_path)):
            load_dataset(name, root=tmp_path / "absent")
    assert set(DATASETS) >= {"mnist-5k", "digits", "mnist", "fashion-mnist", "cifar10", "cifar100", "imagenet"}


# ---------------------------------------------------------------- real on-disk formats

def _idx(path, array: np.ndarray):
    """An IDX (ubyte) file as MNIST ships it: magic 0x0000 08 ndim, big-endian dims."""
    header = struct.pack(">I", 0x0800 + array.ndim) + b"".join(struct.pack(">I", n) for n in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_mnist_idx_files(tmp_path, name, folder):
    raw = tmp_path / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    sets = {}
    for prefix, n in (("train", 12), ("t10k", 5)):
        images = rng.integers(0, 256, (n, 28, 28))
        labels = np.arange(n) % 10
        _idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        sets[prefix] = (images / 255.0, labels)
    data = load_dataset(name, root=tmp_path)
    assert data.train_x.shape == (12, 1, 28, 28) and data.test_x.shape == (5, 1, 28, 28)
    assert data.num_classes == 10 and data.input_shape == (1, 28, 28)
    mean, std = sets["train"][0].mean(), sets["train"][0].std(ddof=1)
    assert np.allclose(data.test_x[:, 0].numpy(), (sets["t10k"][0] - mean) / std, atol=1e-5)
    assert data.test_y.tolist() == sets["t10k"][1].tolist()

    (raw / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(UsageError, match="missing or corrupted under .*raw"):
        load_dataset(name, root=tmp_path)


@pytest.mark.parametrize("hundred", [False, True])
def test_cifar_pickles(tmp_path, tiny_cifar, hundred):
    cls, folder, written = tiny_cifar(hundred)
    name = "cifar100" if hundred else "cifar10"
    data = load_dataset(name, root=tmp_path)
    train_files = [n for n, _ in cls.train_list]
    n_train = 4 * len(train_files)
    assert data.train_x.shape == (n_train, 3, 32, 32) and data.test_x.shape == (4, 3, 32, 32)
    assert data.num_classes == (100 if hundred else 10) and data.augment == "crop-flip"
    train_pix = np.concatenate([written[n][0] for n in train_files]).reshape(-1, 3, 32, 32) / 255.0
    mean = train_pix.mean(axis=(0, 2, 3), keepdims=True)
    std = train_pix.std(axis=(0, 2, 3), keepdims=True, ddof=1)
    test_name = cls.test_list[0][0]
    expect = (written[test_name][0].reshape(-1, 3, 32, 32) / 255.0 - mean) / std
    assert np.allclose(data.test_x.numpy(), expect, atol=1e-5)
    assert data.test_y.tolist() == written[test_name][1]

    # torchvision's MD5 check still guards the files: a changed byte is refused
    damaged = folder / test_name
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"\x00")
    with pytest.raises(UsageError, match="missing or corrupted"):
        load_dataset(name, root=tmp_path)


def test_imagenet_folder(tmp_path):
    from PIL import Image
    rng = np.random.default_rng(2)
    for split, n in (("train", 3), ("val", 2)):
        for cls in ("cat", "dog"):
            (tmp_path / split / cls).mkdir(parents=True)
            for i in range(n):
                Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(
                    tmp_path / split / cls / f"{i}.png")
    data = load_dataset("imagenet", root=tmp_path, image_size=16, num_workers=1)
    assert not data.tensor_backed and data.num_classes == 2 and data.input_shape == (3, 16, 16)
    assert data.size("train") == 6 and data.size("test") == 4
    epoch = lambda: list(data.batches("train", 4, torch.Generator().manual_seed(3)))
    first, second = epoch(), epoch()
    assert [x.shape for x, _ in first] == [(4, 3, 16, 16), (2, 3, 16, 16)]
    # the seeded generator fixes order *and* the random crops done in the workers
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(first, second))
    test_labels = torch.cat([y for _, y in data.batches("test", 3)])
    assert test_labels.tolist() == [0, 0, 1, 1]
    (tmp_path / "val").rename(tmp_path / "validation")
    with pytest.raises(UsageError, match="val not found"):
        load_dataset("imagenet", root=tmp_path)
