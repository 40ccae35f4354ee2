"""Training: config defaults, the loop's numbers, divergence, batched training
against one-by-one training, and the `nnmass train` command."""
import json
import math

import pytest
import torch

from nnmass.cli import main
from nnmass.data import load_dataset
from nnmass.errors import UsageError
from nnmass.models import build
from nnmass.spec import DenseCNNSpec, DenseMLPSpec
from nnmass.train import (StackedDenseMLP, TrainConfig, default_config, evaluate, fit_spec_to_data, train,
                          train_many, train_stacked)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def blobs():
    return load_dataset("synthetic", split_seed=1, dim=12, num_classes=4, train_size=96, test_size=40,
                        separation=3.0)


def test_default_configs_and_validation():
    mlp = default_config("mnist-5k", "dense-mlp", epochs=3)
    assert (mlp.optimizer, mlp.lr, mlp.weight_decay, mlp.schedule, mlp.epochs) == ("adam", 1e-3, 0.0, "cosine", 3)
    cnn = default_config("cifar10", "dense-cnn")
    assert (cnn.optimizer, cnn.lr, cnn.momentum, cnn.weight_decay, cnn.schedule) == ("sgd", 0.1, 0.9, 5e-4, "cosine")
    assert default_config("digits", "resnet", 1).lr == 0.05
    assert TrainConfig(device="cpu").use_amp is False and TrainConfig(device="cuda").use_amp is True
    for bad in (dict(lr=0.0), dict(lr=float("nan")), dict(optimizer="rmsprop"), dict(epochs=0),
                dict(momentum=1.0), dict(amp=True), dict(device="tpu")):
        with pytest.raises(UsageError):
            TrainConfig(**bad)


def test_fit_spec_to_data(digits):
    spec = DenseMLPSpec(depth=6, seed=4)
    fitted = fit_spec_to_data(spec, digits)
    assert (fitted.input_dim, fitted.num_classes, fitted.skips) == (64, 10, spec.skips)
    # A key the user fixed is refused, with the caller's advice (design's: a --range to search).
    with pytest.raises(UsageError, match="input_dim=784 does not fit dataset digits, which needs input_dim=64; "
                                         "set input_dim=64 or leave it to the dataset"):
        fit_spec_to_data(spec, digits, fixed={"input_dim"})
    with pytest.raises(UsageError, match="needs input_dim=64; design for it with --range input_dim=64$"):
        fit_spec_to_data(spec, digits, fixed={"input_dim"}, advice="design for it with --range {key}={value}")
    cnn = fit_spec_to_data(DenseCNNSpec(num_cells=2, depth=(3, 3), wm=0.5, tc=(4, 4)), digits)
    assert (cnn.in_channels, cnn.input_size, cnn.num_classes) == (1, 8, 10)
    with pytest.raises(UsageError, match="input_dim=784 does not fit dataset digits"):
        fit_spec_to_data(spec, digits, fixed={"input_dim"})


def test_network_for_data_fits_only_the_keys_the_user_left_open(digits, tmp_path):
    """One rule for proxies, ldi, train and rank: --set keys and the keys a spec file
    writes are the user's (they must fit the data); the rest follow the data."""
    import json

    import torch

    from nnmass.models.network import network_for_data

    model, shape, spec = network_for_data("dense-mlp", {"depth": "4"}, seed=3, data=digits)
    assert (spec.input_dim, spec.num_classes, spec.depth, shape) == (64, 10, 4, (1, 64))
    # Weights are those of the fitted spec built with the seed.
    expected = build(fit_spec_to_data(DenseMLPSpec(depth=4), digits), seed=3)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), expected.state_dict().values()))
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in expected.parameters())
    with pytest.raises(UsageError, match="num_classes=3 does not fit dataset digits"):
        network_for_data("dense-mlp", {"num_classes": "3"}, data=digits)
    open_file = tmp_path / "open.json"
    open_file.write_text(json.dumps({"family": "dense-mlp", "width": 8, "depth": 3, "tc": 4}))
    assert network_for_data(str(open_file), data=digits)[2].input_dim == 64
    fixed_file = tmp_path / "fixed.json"
    fixed_file.write_text(json.dumps({"family": "dense-mlp", "width": 8, "depth": 3, "tc": 4, "input_dim": 784}))
    with pytest.raises(UsageError, match="input_dim=784 does not fit dataset digits"):
        network_for_data(str(fixed_file), data=digits)
    assert network_for_data(str(fixed_file))[2].input_dim == 784  # no data: as named


def test_mlp_learns_digits_and_history_is_numbers(digits):
    spec = fit_spec_to_data(DenseMLPSpec(width=16, depth=3, tc=8), digits)
    config = default_config("digits", "dense-mlp", epochs=2, batch_size=32, lr=1e-2)
    seen = []
    result = train(build(spec, seed=0), digits, config, progress=seen.append)
    assert [h["epoch"] for h in result.history] == [1, 2] and seen == result.history
    for h in result.history:
        assert all(isinstance(h[k], float) and math.isfinite(h[k])
                   for k in ("train_loss", "train_acc", "test_loss", "test_acc"))
    assert result.test_acc > 0.5  # chance is 0.1
    assert result.diverged is False and result.seconds > 0
    model = build(spec, seed=0)
    loss, acc = evaluate(model, digits, "test")
    # independent: the plain full-batch computation
    with torch.no_grad():
        logits = model(digits.test_x)
    assert loss == pytest.approx(float(torch.nn.functional.cross_entropy(logits, digits.test_y)), rel=1e-5)
    assert acc == pytest.approx(float((logits.argmax(1) == digits.test_y).double().mean()))


def test_cnn_with_augmentation_is_reproducible(digits):
    import dataclasses
    data = dataclasses.replace(digits, augment="crop-flip")
    spec = fit_spec_to_data(DenseCNNSpec(num_cells=2, depth=(3, 3), wm=0.25, tc=(4, 8)), data)
    config = default_config("digits", spec.family, epochs=1, batch_size=64)
    assert config.optimizer == "sgd"
    runs = [train(build(spec, seed=1), data, config).history for _ in range(2)]
    assert runs[0] == runs[1] and math.isfinite(runs[0][0]["train_loss"])
    other = train(build(spec, seed=1), data, config.replace(seed=2)).history
    assert other != runs[0]  # the seed moves batch order and crops


def test_nan_weights_diverge_without_exception(blobs):
    spec = fit_spec_to_data(DenseMLPSpec(width=4, depth=3, tc=2), blobs)
    model = build(spec, seed=0)
    with torch.no_grad():
        model.layers[1].weight[0, 0] = float("nan")
    result = train(model, blobs, default_config("synthetic", "dense-mlp", epochs=4))
    assert result.diverged is True and len(result.history) == 1
    assert math.isnan(result.history[0]["train_loss"])
    assert result.to_dict()["history"][0]["train_loss"] is None  # JSON holds no NaN
    huge = train(build(spec, seed=0), blobs, default_config("synthetic", "dense-mlp", epochs=5, optimizer="sgd",
                                                            lr=1e8, schedule="constant"))
    assert huge.diverged is True and len(huge.history) < 5



def test_largest_lr_and_weight_decay_train_and_larger_are_refused(blobs):
    """At the bounds, both optimizers take their steps (the loss diverges, reported as
    such); torch itself raised mid-step on values just past them."""
    from nnmass.train.config import FLOAT32_MAX, MAX_LR
    spec = fit_spec_to_data(DenseMLPSpec(width=4, depth=3, tc=2), blobs)
    for optimizer in ("adam", "sgd"):
        for edge in (dict(lr=MAX_LR), dict(weight_decay=FLOAT32_MAX)):
            config = default_config("synthetic", "dense-mlp", epochs=1, optimizer=optimizer, **edge)
            assert train(build(spec, seed=0), blobs, config).history  # no exception
    for past in (dict(lr=MAX_LR * 1.001), dict(weight_decay=FLOAT32_MAX * 1.001)):
        with pytest.raises(UsageError, match="<= (1e[+]37|3.40282e[+]38), got"):
            TrainConfig(**past)


def test_stacked_forward_equals_each_model(blobs):
    specs = [fit_spec_to_data(DenseMLPSpec(width=4, depth=5, tc=3, seed=s), blobs) for s in range(3)]
    assert len({s.skips for s in specs}) == 3  # different skip links per seed
    models = [build(s, seed=10 + k) for k, s in enumerate(specs)]
    stacked = StackedDenseMLP(models)
    with torch.no_grad():
        out = stacked(blobs.test_x)
        for m, model in enumerate(models):
            assert torch.allclose(out[m], model(blobs.test_x), atol=1e-6)


def test_batched_training_equals_one_by_one(blobs):
    specs = [fit_spec_to_data(DenseMLPSpec(width=4, depth=5, tc=3, seed=s), blobs) for s in range(3)]
    specs.append(fit_spec_to_data(DenseMLPSpec(width=4, depth=3, tc=3, seed=9), blobs))  # another shape
    config = default_config("synthetic", "dense-mlp", epochs=2, batch_size=32, lr=1e-2)
    seeds = [5, 6, 7, 8]
    # weights after training stacked == weights after training each alone
    stacked = StackedDenseMLP([build(s, seed=k) for s, k in zip(specs[:3], seeds)])
    train_stacked(stacked, blobs, config)
    for m in range(3):
        alone = build(specs[m], seed=seeds[m])
        train(alone, blobs, config)
        for name, value in stacked.model_state(m).items():
            assert torch.allclose(value, alone.state_dict()[name], atol=1e-5), name
    # train_many groups by shape and keeps the input order
    many = train_many(specs, blobs, config, init_seeds=seeds)
    for spec, seed, got in zip(specs, seeds, many):
        ref = train(build(spec, seed=seed), blobs, config)
        assert len(got.history) == len(ref.history) == 2
        for a, b in zip(got.history, ref.history):
            for key in a:
                assert a[key] == pytest.approx(b[key], abs=1e-5)


def test_cli_train_json(capsys):
    code = main(["train", "dense-mlp", "--dataset", "digits", "--epochs", "1", "--set", "depth=3", "--json"])
    out = capsys.readouterr()
    assert code == 0
    report = json.loads(out.out)
    assert {"spec", "nn_mass", "params", "test_acc", "history", "diverged", "seconds"} <= set(report)
    spec = report["spec"]
    assert spec["input_dim"] == 64 and spec["num_classes"] == 10 and len(report["history"]) == 1
    # params counted independently, the authors' layout: 64*8+8, 8*8+8, then the classifier
    # as layer 2, reading 8 + min(8, 10) = 16 inputs: 16*10+10
    assert report["params"] == (64 * 8 + 8) + (8 * 8 + 8) + (16 * 10 + 10)
    # Eq. 1-2 by hand: one layer (i=2) takes min(8, 10) = 8 skips; rho = 2*8/(8*2*1) = 1; m = 8*3*1
    assert report["nn_mass"] == pytest.approx(24.0)
    assert "epoch 1/1" in out.err


def test_cli_lists_every_dataset_without_importing_torch():
    import subprocess
    import sys
    from nnmass.data.loading import DATASETS
    code = ("import argparse, sys; from nnmass.cli import train; "
            "p = argparse.ArgumentParser(); train.add_arguments(p); print(p.format_help()); "
            "sys.exit('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0
    assert "oneof:" + ",".join(DATASETS) + "(default" in "".join(out.stdout.split())  # help wraps at hyphens


@pytest.mark.parametrize("argv,needle", [
    (["--dataset", "svhn"], "unknown dataset 'svhn'"),
    (["--dataset", "cifar10", "--data-root", "NOPE"], "NOPE"),
    (["--dataset", "mnist"], "--data-root"),
    (["--dataset", "digits", "--device", "cuda"], "CUDA"),
    (["--dataset", "digits", "--set", "num_classes=3"], "num_classes=3 does not fit"),
])
def test_cli_errors_are_one_line(capsys, tmp_path, argv, needle):
    argv = [str(tmp_path / a) if a == "NOPE" else a for a in argv]
    if not torch.cuda.is_available() or "cuda" not in argv:
        assert main(["train", "dense-mlp", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("nnmass: error: ") and err.count("\n") == 1 and needle in err
