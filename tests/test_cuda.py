"""The CUDA paths against the CPU ones they must agree with. Skipped where no GPU is
present (CI); run on a GPU machine with ``python -m pytest tests/test_cuda.py``."""
import json

import pytest
import torch

from nnmass.cli import main
from nnmass.data import load_dataset
from nnmass.ldi import layer_spectra
from nnmass.models import build
from nnmass.spec import DenseCNNSpec, DenseMLPSpec, ResNetSpec
from nnmass.store import ResultStore
from nnmass.train import default_config, fit_spec_to_data, train, train_many

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _spectra_on(device, spec, x, **options):
    model = build(spec, seed=3).to(device)
    return layer_spectra(model, x.to(device), generator=torch.Generator().manual_seed(1), **options)


@pytest.mark.parametrize("spec, shape", [
    (DenseMLPSpec(width=8, depth=12, tc=10, activation="elu", seed=2), (32, 784)),
    (DenseCNNSpec(num_cells=2, depth=(3, 3), wm=0.5, tc=(4, 8), input_size=12, seed=2), (4, 3, 12, 12)),
    (DenseCNNSpec(num_cells=1, depth=(4,), wm=0.5, tc=(6,), conv="separable", input_size=8), (4, 3, 8, 8)),
    (ResNetSpec(layers=(1, 1, 1, 1), input_size=32), (2, 3, 32, 32)),
], ids=["mlp-elu", "cnn", "cnn-separable", "resnet"])
def test_ldi_on_cuda_equals_cpu(spec, shape):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    cpu = _spectra_on("cpu", spec, x, positions=6)
    gpu = _spectra_on("cuda", spec, x, positions=6)
    assert [s.name for s in gpu] == [s.name for s in cpu] and len(cpu) > 0
    for a, b in zip(cpu, gpu):
        assert b.values.device.type == "cuda"
        torch.testing.assert_close(b.values.cpu(), a.values, atol=1e-4, rtol=1e-4)
        assert torch.equal(b.counts.cpu(), a.counts)


def test_train_on_cuda_uses_bf16_and_learns():
    data = load_dataset("digits", device="cuda")
    assert data.train_x.device.type == "cuda"
    spec = fit_spec_to_data(DenseMLPSpec(width=16, depth=4, tc=8), data)
    config = default_config("digits", spec.family, epochs=6, device="cuda", lr=0.01)
    assert config.use_amp
    result = train(build(spec, seed=0).to("cuda"), data, config)
    losses = [h["train_loss"] for h in result.history]
    assert not result.diverged and losses[-1] < losses[0] and result.test_acc > 0.5  # chance is 0.1


def test_train_many_on_cuda_equals_one_by_one():
    data = load_dataset("synthetic", device="cuda", split_seed=1, dim=12, num_classes=4, train_size=96,
                        test_size=40, separation=3.0)
    specs = [fit_spec_to_data(DenseMLPSpec(width=4, depth=5, tc=3, seed=s), data) for s in range(3)]
    config = default_config("synthetic", "dense-mlp", epochs=2, device="cuda", batch_size=32, lr=1e-2,
                            amp=False)
    many = train_many(specs, data, config, init_seeds=[5, 6, 7])
    for spec, seed, got in zip(specs, [5, 6, 7], many):
        ref = train(build(spec, seed=seed).to("cuda"), data, config)
        for a, b in zip(got.history, ref.history):
            for key in a:
                assert a[key] == pytest.approx(b[key], abs=1e-4)


def test_cli_ldi_and_batched_sweep_on_cuda(tmp_path, capsys):
    assert main(["ldi", "dense-mlp", "--device", "cuda", "--batch", "16", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["device"] == "cuda" and report["count"] == 15 * 16 * 8  # layers 1..15, 8 values each
    grid = tmp_path / "g.yaml"
    grid.write_text("model: dense-mlp\ndataset: digits\nepochs: 6\nfixed: {width: 8}\n"
                    "grid: {depth: [4, 6]}\nseeds: [0, 1, 2]\ntrain: {lr: 0.01}\n")
    store = tmp_path / "s.sqlite"
    assert main(["sweep", str(grid), "--store", str(store), "--device", "cuda", "--no-progress"]) == 0
    with ResultStore(store) as s:
        rows = list(s.trials())
    assert len(rows) == 6 and {r["status"] for r in rows} == {"done"}
    assert all(r["ldi_mean"] > 0 and r["test_acc"] > 0.3 for r in rows), rows  # chance is 0.1
