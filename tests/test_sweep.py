"""Sweeps end to end on real data (scikit-learn digits): values, divergence,
SIGKILL and resume, and the Ray executor against the local one."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import torch

from nnmass.cli import main
from nnmass.sweep.grid import load_grid
from nnmass.spec import spec_from_json
from nnmass.store import ResultStore
from nnmass.sweep import LocalExecutor, RayExecutor, plan_units, run_sweep

SMALL = """\
name: small
model: dense-mlp
dataset: digits
epochs: 2
fixed: {width: 8}
grid:
  depth: [3, 5]
  tc: [4]
seeds: [3]
ldi: {batch: 8, seed: 1}
"""

# 8 trials of 10 epochs each: long enough to be killed part-way.
KILL = """\
name: kill
model: dense-mlp
dataset: digits
epochs: 10
fixed: {width: 8}
grid:
  depth: [4, 8]
  tc: [0, 6]
seeds: [0, 1]
"""


def _grid(tmp_path, text, name="g.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _hand_mass(width, depth, tc):
    """Eq. 1-2 worked directly: m = w d rho, rho = 2 sum_i t_i / (w (d-1)(d-2))."""
    if depth <= 2:
        return 0.0
    t = sum(min(width * (i - 1), tc) for i in range(2, depth))
    return width * depth * 2 * t / (width * (depth - 1) * (depth - 2))


def test_local_sweep_rows_match_independent_recomputation(tmp_path):
    from nnmass.data import load_dataset
    from nnmass.ldi import measure as ldi
    from nnmass.models import build
    from nnmass.train import TrainConfig, train

    grid = load_grid(_grid(tmp_path, SMALL))
    with ResultStore(tmp_path / "s.sqlite") as store:
        summary = run_sweep(grid, store, LocalExecutor(1), progress=False)
        rows = store.trials()
    assert (summary.total, summary.done, summary.skipped, summary.failed) == (2, 2, 0, 0)
    assert [r["key"] for r in rows] == [t.key for t in grid.trials()]
    # By hand, w=8, tc=4: d=3 has t_2=4, m = 8*3*2*4/(8*2*1) = 12;
    # d=5 has t_2..t_4 = 4 each, m = 8*5*2*12/(8*4*3) = 10.
    assert [r["nn_mass"] for r in rows] == [12.0, 10.0]
    data = load_dataset("digits")
    for row in rows:
        spec = spec_from_json(row["spec_json"])
        assert (spec.input_dim, spec.num_classes, spec.seed) == (64, 10, 3)
        assert row["status"] == "done" and row["seed"] == 3 and row["error"] is None
        assert row["nn_mass"] == pytest.approx(_hand_mass(8, spec.depth, spec.tc), abs=1e-12)
        model = build(spec, seed=row["seed"])
        assert row["params"] == sum(p.numel() for p in model.parameters())
        linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        assert row["macs"] == sum(m.weight.numel() for m in linears)
        assert (row["depth"], row["width"]) == (spec.depth, 8)
        # LDI at init on 8 training inputs drawn by Generator(1), before training.
        idx = torch.randperm(len(data.train_y), generator=torch.Generator().manual_seed(1))[:8]
        assert row["ldi_mean"] == pytest.approx(ldi(model, data.train_x[idx].flatten(1)).mean, rel=1e-6)
        # The same topology under Prop. 2's width-only init, on the same inputs.
        prop2 = build(spec.replace(init="fan_out"), seed=row["seed"])
        assert row["ldi_prop2_mean"] == pytest.approx(ldi(prop2, data.train_x[idx].flatten(1)).mean, rel=1e-6)
        assert row["ldi_prop2_mean"] != pytest.approx(row["ldi_mean"], rel=1e-3)
        # The trial seed also seeds the data order: retraining gives the same numbers.
        config = TrainConfig(**json.loads(row["train_json"]))
        assert config.seed == 3 and config.epochs == 2
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as the sweep runs it; the numbers do not depend on it here
        try:
            again = train(model, data, config)
        finally:
            torch.set_num_threads(threads)
        history = json.loads(row["history_json"])
        assert [h["epoch"] for h in history] == [1, 2]
        assert row["test_acc"] == pytest.approx(again.test_acc, abs=1e-9)
        assert history[-1]["train_loss"] == pytest.approx(again.train_loss, rel=1e-9)
    # A second run finds everything done and runs nothing.
    with ResultStore(tmp_path / "s.sqlite") as store:
        again = run_sweep(grid, store, LocalExecutor(1), progress=False)
        assert (again.skipped, again.done) == (2, 0) and len(store) == 2


def test_nan_trial_is_recorded_as_diverged_and_the_sweep_goes_on(tmp_path):
    text = SMALL.replace("  depth: [3, 5]\n  tc: [4]\n", "  train.lr: [1.0e+6, 0.001]\n  depth: [4]\n")
    text = text.replace("ldi:", "train: {optimizer: sgd}\nldi:")
    grid = load_grid(_grid(tmp_path, text))
    with ResultStore(tmp_path / "n.sqlite") as store:
        summary = run_sweep(grid, store, LocalExecutor(1), progress=False)
        rows = {json.loads(r["point_json"])["train.lr"]: r for r in store.trials()}
    assert (summary.diverged, summary.done, summary.failed) == (1, 1, 0)
    bad, good = rows[1e6], rows[0.001]
    assert bad["status"] == "diverged" and "non-finite" in bad["error"]
    assert bad["test_acc"] is None and bad["nn_mass"] is not None and bad["ldi_mean"] is not None
    assert good["status"] == "done" and 0.0 <= good["test_acc"] <= 1.0


def test_batched_units_group_seeds_of_one_shape(tmp_path):
    text = SMALL.replace("  depth: [3, 5]\n  tc: [4]\nseeds: [3]", "  depth: [3, 5]\n  tc: [4]\nseeds: [3, 4]")
    grid = load_grid(_grid(tmp_path, text))
    units = plan_units(grid.trials(), batched=True)
    assert [[(t.spec.depth, t.seed) for t in u] for u in units] == [[(3, 3), (3, 4)], [(5, 3), (5, 4)]]
    assert [len(u) for u in plan_units(grid.trials(), batched=False)] == [1, 1, 1, 1]
    with ResultStore(tmp_path / "b.sqlite") as store:
        summary = run_sweep(grid, store, LocalExecutor(1), batched=True, progress=False)
        rows = store.trials()
    assert summary.done == 4 and {r["key"] for r in rows} == {t.key for t in grid.trials()}
    for row in rows:
        # Weights come from each trial's seed; the batch order is the group's first seed.
        assert json.loads(row["train_json"])["seed"] == 3
        assert len(json.loads(row["history_json"])) == 2 and 0.0 <= row["test_acc"] <= 1.0
    accs = {(json.loads(r["spec_json"])["depth"], r["seed"]): r["test_acc"] for r in rows}
    assert len(set(accs.values())) > 1  # four different models, not one model copied


def test_failed_trial_is_recorded_and_retried_on_resume(tmp_path, monkeypatch):
    import nnmass.train

    real_train, calls = nnmass.train.train, []

    def train_failing_once(model, data, config):
        calls.append(config.seed)
        if len(calls) == 1:
            raise RuntimeError("boom")  # stands in for e.g. a CUDA out-of-memory error
        return real_train(model, data, config)

    monkeypatch.setattr(nnmass.train, "train", train_failing_once)
    grid = load_grid(_grid(tmp_path, SMALL))
    with ResultStore(tmp_path / "f.sqlite") as store:
        first = run_sweep(grid, store, LocalExecutor(1), progress=False)
        assert (first.failed, first.done) == (1, 1)
        failed, done = store.trials(status="failed"), store.trials(status="done")
        assert failed[0]["error"].startswith("RuntimeError: boom (test_sweep.py:")
        assert failed[0]["nn_mass"] == 12.0  # measured before training failed
        second = run_sweep(grid, store, LocalExecutor(1), progress=False)
        assert (second.skipped, second.done, second.failed) == (1, 1, 0)
        rows = {r["key"]: r for r in store.trials()}
    assert len(rows) == 2 and {r["status"] for r in rows.values()} == {"done"}
    assert rows[done[0]["key"]] == done[0]  # the finished row was not touched
    assert rows[failed[0]["key"]]["error"] is None and len(calls) == 3


def test_family_that_cannot_take_the_data_stops_before_training(tmp_path, capsys):
    grid = _grid(tmp_path, "model: resnet18\ndataset: digits\nepochs: 1\n")
    assert main(["sweep", str(grid), "--store", str(tmp_path / "r.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "takes 3-channel images" in err and err.count("\n") == 1
    assert not (tmp_path / "r.sqlite").exists()


@pytest.mark.parametrize("root, needle", [("nowhere", "data root"), ("empty", "mnist files missing")])
def test_missing_dataset_path_is_one_line_exit_2(tmp_path, capsys, root, needle):
    (tmp_path / "empty").mkdir()
    grid = _grid(tmp_path, SMALL.replace("dataset: digits", "dataset: mnist"))
    code = main(["sweep", str(grid), "--store", str(tmp_path / "s.sqlite"), "--data-root", str(tmp_path / root)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("nnmass: error: ") and needle in err and err.count("\n") == 1
    assert not (tmp_path / "s.sqlite").exists()  # stopped before the store was made


def _closed_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address, needle", [
    ("127.0.0.1:{port}", "cannot reach Ray at '127.0.0.1:{port}': nothing answers on 127.0.0.1:{port}"),
    ("ray://127.0.0.1:{port}", "nothing answers on 127.0.0.1:{port}"),
    ("headnode", "--ray-address must be HOST:PORT, ray://HOST:PORT or auto, got 'headnode'"),
    ("host:99999", "--ray-address must be HOST:PORT"),
])
def test_unreachable_ray_address_fails_before_ray_is_asked(tmp_path, capsys, monkeypatch, address, needle):
    ray = pytest.importorskip("ray")
    # ray.init would retry a dead address for minutes: it must not be reached at all.
    monkeypatch.setattr(ray, "init", lambda *a, **k: pytest.fail("ray.init called with a dead address"))
    port = _closed_port()
    grid = _grid(tmp_path, SMALL)
    code = main(["sweep", str(grid), "--store", str(tmp_path / "s.sqlite"), "--executor", "ray",
                 "--ray-address", address.format(port=port)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("nnmass: error: ") and needle.format(port=port) in err and err.count("\n") == 1
    assert not (tmp_path / "s.sqlite").exists()


def _sweep_cmd(grid, store, *extra):
    return [sys.executable, "-m", "nnmass", "sweep", str(grid), "--store", str(store), "--no-progress", *extra]


def _finished(store):
    if not os.path.exists(store):
        return {}
    try:
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5) as db:
            return {k: (f, a) for k, f, a in db.execute("SELECT key, finished_at, test_acc FROM trials")}
    except sqlite3.OperationalError:  # tables not created yet
        return {}


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory):
    """Run the KILL grid with 2 local workers, SIGKILL the process group once >= 2
    trials are stored, then rerun it (with the default single worker) to completion."""
    tmp = tmp_path_factory.mktemp("kill")
    grid, store = _grid(tmp, KILL), tmp / "k.sqlite"
    proc = subprocess.Popen(_sweep_cmd(grid, store, "--workers", "2"), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while len(_finished(store)) < 2:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "no trial finished in 90 s"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _finished(store)
    # Resume in-process: a different executor setting must find the same keys.
    resumed = subprocess.run(_sweep_cmd(grid, store), capture_output=True, text=True)
    return grid, store, before, proc.returncode, resumed


def test_sigkill_then_resume_runs_every_trial_exactly_once(killed_and_resumed):
    grid_path, store, before, killed_rc, resumed = killed_and_resumed
    keys = [t.key for t in load_grid(grid_path).trials()]
    assert killed_rc == -signal.SIGKILL
    assert 2 <= len(before) < len(keys), "the kill must land part-way"
    assert resumed.returncode == 0, resumed.stderr
    # The summary counts: the finished trials were skipped, the others ran once.
    header, _, values = resumed.stdout.strip().splitlines()[:3]
    summary = dict(zip(re.split(r"\s{2,}", header.strip()), values.split()))
    assert int(summary["trials"]) == len(keys)
    assert int(summary["skipped"]) == len(before)
    assert int(summary["done now"]) == len(keys) - len(before)
    with sqlite3.connect(store) as db:
        counts = dict(db.execute("SELECT key, COUNT(*) FROM trials GROUP BY key"))
        statuses = {s for (s,) in db.execute("SELECT status FROM trials")}
    assert counts == {k: 1 for k in keys}
    assert statuses == {"done"}
    after = _finished(store)
    for key, (finished_at, acc) in before.items():
        assert after[key] == (finished_at, acc)  # untouched by the resumed run


def test_ray_executor_gives_the_same_rows_as_local(killed_and_resumed):
    grid_path, local_store, _, _, resumed = killed_and_resumed
    assert resumed.returncode == 0, resumed.stderr
    grid = load_grid(grid_path)
    with ResultStore(local_store) as store:
        local = {r["key"]: r for r in store.trials()}
    with ResultStore(grid_path.parent / "ray.sqlite") as store:
        summary = run_sweep(grid, store, RayExecutor(num_cpus=2), progress=False)
        ray_rows = {r["key"]: r for r in store.trials()}
    assert summary.done == len(local) == len(ray_rows)
    assert set(ray_rows) == set(local)
    for key, row in ray_rows.items():
        ref = local[key]
        for col in ("status", "seed", "spec_json", "train_json", "nn_mass", "params", "macs", "depth", "width"):
            assert row[col] == ref[col], col
        assert row["test_acc"] == pytest.approx(ref["test_acc"], abs=1e-6)
        assert row["ldi_mean"] == pytest.approx(ref["ldi_mean"], abs=1e-6)


def test_trial_measures_ldi_of_a_torchvision_family_at_init():
    """A ResNet trial gets LDI at init from the generic layer finder; the fan_out column
    is left to the DenseNet-type specs, the only ones with an init choice."""
    from nnmass.data.base import Data
    from nnmass.sweep.grid import TrialSpec
    from nnmass.ldi import measure as ldi
    from nnmass.models import build
    from nnmass.spec import ResNetSpec
    from nnmass.sweep.trial import ldi_inputs, measure

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(6, 3, 32, 32, generator=g), torch.arange(6) % 3
    data = Data("tiny-images", x, y, x, y, num_classes=3, input_shape=(3, 32, 32))
    spec = ResNetSpec(layers=(1, 1, 1, 1), num_classes=3, input_size=32)
    trial = TrialSpec("k", "s", "resnet", spec, 5, {}, "tiny-images", None, 1, {}, {"batch": 2, "seed": 1})
    _, _, columns = measure(trial, data)
    expected = ldi(build(spec, seed=5), ldi_inputs(spec, data, trial.ldi), generator=torch.Generator().manual_seed(1))
    assert columns["ldi_mean"] == pytest.approx(expected.mean, rel=1e-6)
    assert columns["ldi_std"] == pytest.approx(expected.std, rel=1e-6)
    assert "ldi_prop2_mean" not in columns
