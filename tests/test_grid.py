"""Grid files: parsing, crossing order, keys, and one-line errors (exit 2)."""
import json
import pytest

from nnmass.cli import main
from nnmass.errors import UsageError
from nnmass.sweep.grid import load_grid, trial_key
from nnmass.spec import DenseMLPSpec

GRID_YAML = """\
name: demo
model: dense-mlp
dataset: digits
epochs: 2
fixed: {width: 8}
grid:
  depth: [4, 6]
  tc: [0, 3, 5]
seeds: [7, 1]
train: {lr: 0.01}
ldi: {batch: 16}
"""


def test_yaml_grid_is_crossed_in_stable_order(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(GRID_YAML)
    grid = load_grid(path)
    assert (grid.name, grid.model, grid.dataset, grid.epochs) == ("demo", "dense-mlp", "digits", 2)
    assert grid.ldi == {"batch": 16, "seed": 0, "split": "train", "input_layer": False}
    trials = grid.trials()
    # 2 depths x 3 tcs x 2 seeds; last grid key fastest, seeds innermost.
    got = [(t.spec.depth, t.spec.tc, t.seed) for t in trials]
    want = [(d, tc, s) for d in (4, 6) for tc in (0, 3, 5) for s in (7, 1)]
    assert got == want
    for t in trials:
        assert t.spec == DenseMLPSpec(width=8, depth=t.spec.depth, tc=t.spec.tc, seed=t.seed)
        assert t.point == {"depth": t.spec.depth, "tc": t.spec.tc}
        assert t.train == {"lr": 0.01} and t.epochs == 2 and t.sweep == "demo"
    assert len({t.key for t in trials}) == 12


def test_key_covers_spec_seed_training_and_dataset():
    spec = DenseMLPSpec(width=8, depth=4, tc=3, seed=1)
    base = trial_key(spec, 1, "digits", 2, {"lr": 0.01}, {"batch": 16, "seed": 0})
    assert base == trial_key(DenseMLPSpec(width=8, depth=4, tc=3, seed=1), 1, "digits", 2,
                             {"lr": 0.01}, {"seed": 0, "batch": 16})
    others = [trial_key(spec.replace(tc=2), 1, "digits", 2, {"lr": 0.01}, {"batch": 16, "seed": 0}),
              trial_key(spec, 2, "digits", 2, {"lr": 0.01}, {"batch": 16, "seed": 0}),
              trial_key(spec, 1, "mnist-5k", 2, {"lr": 0.01}, {"batch": 16, "seed": 0}),
              trial_key(spec, 1, "digits", 3, {"lr": 0.01}, {"batch": 16, "seed": 0}),
              trial_key(spec, 1, "digits", 2, {"lr": 0.02}, {"batch": 16, "seed": 0}),
              trial_key(spec, 1, "digits", 2, {"lr": 0.01}, {"batch": 16, "seed": 0, "split": "test"}),
              trial_key(spec, 1, "digits", 2, {"lr": 0.01}, {"batch": 16, "seed": 0}, pixels="unit")]
    assert len({base, *others}) == 8


def test_json_grid_and_duplicate_points_run_once(tmp_path):
    # tc 2 is listed twice: the same spec, seed and settings are one trial.
    doc = {"model": "dense-mlp", "dataset": "digits", "epochs": 1,
           "grid": {"tc": [2, 2, 5]}, "fixed": {"width": 2, "depth": 3}}
    path = tmp_path / "g.json"
    path.write_text(json.dumps(doc))
    grid = load_grid(path)
    assert grid.name == "g" and grid.seeds == (0,)
    assert [t.spec.tc for t in grid.trials()] == [2, 5]


@pytest.mark.parametrize("text, needle", [
    ("model: dense-mlp\ndataset: digits\nepochs: [1\n", "not valid YAML"),
    ("model: dense-mlp\ndataset: digits\n", "missing required key(s) epochs"),
    ("model: dense-mlp\ndataset: digits\nepochs: 1\ncolour: red\n", "unknown key(s) colour"),
    ("model: nope\ndataset: digits\nepochs: 1\n", "unknown model 'nope'"),
    ("model: dense-mlp\ndataset: digits\nepochs: 0\n", "epochs must be an integer >= 1"),
    ("model: dense-mlp\ndataset: digits\nepochs: 1\ngrid: {depth: 4}\n", "grid.depth must be a non-empty list"),
    ("model: dense-mlp\ndataset: digits\nepochs: 1\ngrid: {depth: [4, -1]}\n", "depth must be an integer >= 2"),
    ("model: dense-mlp\ndataset: digits\nepochs: 1\ngrid: {widht: [4]}\n", "unknown key(s) widht"),
    ("model: dense-mlp\ndataset: digits\nepochs: 1\nseeds: [1, -2]\n", "seeds must be a non-empty list"),
    ("model: dense-mlp\ndataset: digits\nepochs: 1\nfixed: {seed: 3}\n", "top-level 'seeds'"),
    ("model: dense-mlp\ndataset: digits\nepochs: 1\nldi: {batch: 0}\n", "ldi.batch must be an integer in 1..65536"),
    ("- just\n- a list\n", "must be a mapping"),
    ("model: dense-mlp\ndataset: digits\nepochs: 1\ngrid: {train.lr: [1]}\ntrain: {lr: 2}\n",
     "train setting(s) lr are both swept and fixed"),
    ("model: dense-mlp\ndataset: digits\nepochs: 1\ngrid: {train.epochs: [1, 2]}\n", "give epochs at the top level"),
    ("model: dense-mlp\ndataset: digits\nepochs: 1\ntrain: {lr: [1, 2]}\n", "train.lr takes single values"),
    ("model: dense-mlp\ndataset: digits\nepochs: 1\ntrain: {lrate: 0.1}\n",
     "unknown train setting(s) lrate; valid: amp batch_size eval_batch_size label_smoothing lr momentum"),
])
def test_bad_grid_files_raise_one_line(tmp_path, text, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as err:
        load_grid(path)
    msg = str(err.value)
    assert needle in msg and str(path) in msg and "\n" not in msg


def test_one_setting_spelt_two_ways_is_one_trial(tmp_path):
    # YAML 1.1 reads 1e-3 as text and 1 as an int: both are the float the setting takes.
    spelt = {}
    for name, text in [("a", "train: {lr: 1e-3, weight_decay: 0}"), ("b", "train: {lr: 0.001, weight_decay: 0.0}")]:
        path = tmp_path / f"{name}.yaml"
        path.write_text(f"model: dense-mlp\ndataset: digits\nepochs: 1\nseeds: [0, 1]\n{text}\n")
        spelt[name] = load_grid(path).trials()
    assert [t.key for t in spelt["a"]] == [t.key for t in spelt["b"]]
    assert spelt["a"][0].train == {"lr": 0.001, "weight_decay": 0.0}
    assert type(spelt["a"][0].train["weight_decay"]) is float
    path = tmp_path / "swept.yaml"
    path.write_text("model: dense-mlp\ndataset: digits\nepochs: 1\ngrid: {train.lr: [1, 1.0, '1e0', 2]}\n")
    assert [t.train["lr"] for t in load_grid(path).trials()] == [1.0, 2.0]


def test_malformed_json_names_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"model": "dense-mlp",\n "epochs": }')
    with pytest.raises(UsageError, match=r"not valid JSON: .* at line 2"):
        load_grid(path)


def test_cli_malformed_grid_and_missing_file_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: dense-mlp\ndataset: digits\nepochs: 1\ngrid:\n  depth: [4\n")
    for grid, needle in ((bad, "is not valid YAML"), (tmp_path / "absent.yaml", "cannot read grid file")):
        code = main(["sweep", str(grid), "--store", str(tmp_path / "s.sqlite")])
        out = capsys.readouterr()
        assert code == 2
        assert out.err.startswith("nnmass: error: ") and needle in out.err and str(grid) in out.err
        assert out.err.count("\n") == 1 and out.out == ""
    assert not (tmp_path / "s.sqlite").exists()  # nothing ran, nothing was created


def test_family_without_spec_seed_still_keys_each_seed(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("model: resnet18\ndataset: cifar10\nepochs: 1\nseeds: [0, 1]\n"
                    "grid: {train.lr: [0.1, 0.01]}\n")
    trials = load_grid(path).trials()
    assert [(t.seed, t.train) for t in trials] == [(0, {"lr": 0.1}), (1, {"lr": 0.1}),
                                                   (0, {"lr": 0.01}), (1, {"lr": 0.01})]
    assert len({t.key for t in trials}) == 4 and len({t.spec for t in trials}) == 1
    assert not hasattr(trials[0].spec, "seed")
