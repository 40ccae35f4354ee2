"""`nnmass study`: error exits, the ImageNet zoo on the paper's ResNet/WRN subset, and
a tiny grid through the study machinery (sweep -> fits -> report, then resume)."""
import dataclasses
import math
import json

import numpy as np
import pytest

from nnmass.cli import main
from nnmass.mass.closed_form import spec_mass
from nnmass.sweep.grid import grid_from_dict
from nnmass.spec import spec_from_json
from nnmass.store import ResultStore
from nnmass.studies import load_study_grid
from nnmass.studies.imagenet_models import zoo_fits, zoo_records
from nnmass.studies.wrn_paper import WRN_PAPER_MODELS, paper_records
from nnmass.studies.run import run_training_study

PAPER_SUBSET = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "wide_resnet50_2", "wide_resnet101_2"]


def _one_line_error(capsys, argv, *needles):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nnmass: error:"), err
    for needle in needles:
        assert needle in err[0]


def test_error_exits(capsys, tmp_path):
    _one_line_error(capsys, ["study", "mnist-cnn"], "mnist-cnn", "mnist-mlp, cifar10-cnn, imagenet-zoo, nb201-proxies")
    _one_line_error(capsys, ["study", "cifar10-cnn", "--store", str(tmp_path / "s.sqlite")], "--data-root")
    _one_line_error(capsys, ["study", "cifar10-cnn", "--data-root", str(tmp_path / "nope")], "not an existing folder")
    _one_line_error(capsys, ["study", "imagenet-zoo", "--quick"], "--quick")
    _one_line_error(capsys, ["study", "mnist-mlp", "--workers", "0"], "--workers")
    assert not (tmp_path / "s.sqlite").exists()


def test_packaged_grids_are_the_paper_setups():
    full, quick = load_study_grid("mnist-mlp"), load_study_grid("mnist-mlp", quick=True)
    for grid in (full, quick):
        assert grid.model == "dense-mlp" and grid.dataset == "mnist-5k" and grid.fixed == {"width": 8}
        assert min(grid.grid["depth"]) == 16 and max(grid.grid["depth"]) == 32
        assert grid.train["optimizer"] == "adam"
    assert len(full.seeds) == 5 and len(quick.seeds) >= 2 and len(quick.points()) >= 12
    assert 0 not in quick.grid["tc"]  # every quick model has NN-Mass > 0, so all enter the log fits
    cnn = load_study_grid("cifar10-cnn")
    assert cnn.model == "dense-cnn" and cnn.dataset == "cifar10" and cnn.fixed["wm"] == 2


def test_zoo_resnet_subset_fits_match_recomputation():
    import torchvision.models as tvm

    records = zoo_records(PAPER_SUBSET + ["squeezenet1_0", "maxvit_t"], progress=False)
    by_name = {r["name"]: r for r in records}
    for name in PAPER_SUBSET:
        weights = tvm.get_model_weights(name)
        meta = weights.DEFAULT.meta
        rec = by_name[name]
        assert rec["mass_method"] == "formula" and rec["mass_status"] == "ok" and rec["nn_mass"] > 0
        # one recipe: the V1 weights' top-1, the DEFAULT weights' kept beside it
        assert rec["weights"] == "IMAGENET1K_V1"
        assert rec["top1"] == weights.IMAGENET1K_V1.meta["_metrics"]["ImageNet-1K"]["acc@1"]
        assert rec["top1_default"] == meta["_metrics"]["ImageNet-1K"]["acc@1"]
        assert rec["params"] == rec["params_closed_form"] == meta["num_params"]
        assert rec["macs_match_meta"]  # _ops (GFLOPS in the metadata) is our MAC count / 1e9
    # SqueezeNet's fire modules concatenate two parallel layers of equal depth: one level, no
    # long-range link, NN-Mass 0 (no log: it stays out of the log fits).
    sq = by_name["squeezenet1_0"]
    assert sq["mass_method"] == "graph" and sq["mass_status"] == "ok" and sq["nn_mass"] == 0
    # MaxViT's attention multiplies feature tensors (einsum): marked, not guessed.
    mv = by_name["maxvit_t"]
    assert mv["mass_status"] == "partial" and mv["nn_mass"] is None and "einsum" in mv["note"]
    fits = zoo_fits(records, n_boot=100, seed=0)
    for label, key in (("IMAGENET1K_V1", "top1"), ("DEFAULT", "top1_default")):
        subset = [f for f in fits if f["subset"].startswith("torchvision ResNets") and label in f["subset"]]
        assert {f["predictor"] for f in subset} == {"nn_mass", "params", "macs"}
        y = np.array([by_name[n][key] for n in PAPER_SUBSET])
        for f in subset:
            assert 0 <= f["r2"] <= 1 and f["r2"] == pytest.approx(_r2_log(by_name, PAPER_SUBSET, f["predictor"], y))
            assert f["n"] == len(PAPER_SUBSET) and f["paper_r2"] is None


def _r2_log(by_name, names, predictor, y):
    x = np.log([by_name[n][predictor] for n in names])
    slope, intercept = np.polyfit(x, y, 1)
    return 1 - np.sum((y - slope * x - intercept) ** 2) / np.sum((y - y.mean()) ** 2)


def test_zoo_paper_set_is_the_wide_resnet_papers_models():
    """Fig. 6(a,b): the Wide-ResNet paper's ImageNet models, built here at their widths."""
    records = paper_records()
    by_name = {r["name"]: r for r in records}
    assert len(records) == 11
    for r in records:  # our closed-form #Params, rounded as that paper prints them
        assert round(r["params"] / 1e6, 1) == r["params_paper"], r["name"]
        assert r["top1"] == pytest.approx(100 - next(e for n, _, _, e, _, _ in WRN_PAPER_MODELS if n == r["name"]))
    # WRN-18-1 is resnet18 and WRN-18-k widens every stage but the stem: k=2 has 2x the block widths
    assert by_name["WRN-18-1"]["nn_mass"] == 3392 and by_name["WRN-50-2"]["nn_mass"] == pytest.approx(10883.2)
    fits = zoo_fits(records, n_boot=0)
    paper = {f["predictor"]: f for f in fits if f["subset"].startswith("the paper's set")}
    y = np.array([r["top1"] for r in records])
    for predictor, f in paper.items():
        assert f["n"] == 11 and f["r2"] == pytest.approx(_r2_log(by_name, list(by_name), predictor, y))
    assert paper["nn_mass"]["paper_r2"] == 0.87 and paper["params"]["paper_r2"] == 0.64
    # #Params on the paper's own models reproduces the paper's R2 to its 2 decimals
    assert round(paper["params"]["r2"], 2) == 0.64


def test_tiny_study_runs_fits_reports_and_resumes(tmp_path):
    grid = grid_from_dict({"name": "tiny", "model": "dense-mlp", "dataset": "digits", "epochs": 2,
                           "fixed": {"width": 4}, "grid": {"depth": [4, 5], "tc": [1, 4]}, "seeds": [0, 1],
                           "train": {"batch_size": 64, "lr": 0.01}, "ldi": {"batch": 4, "seed": 0}})
    kw = dict(store=tmp_path / "s.sqlite", out=tmp_path / "rep", progress=False, n_boot=20, grid=grid)
    first = run_training_study("mnist-mlp", **kw)
    assert first.sweep["done"] == 8
    assert (tmp_path / "rep" / "report.md").is_file() and (tmp_path / "rep" / "report.html").is_file()
    fits = json.loads((tmp_path / "rep" / "fits.json").read_text())
    assert [(f["target"], f["predictor"]) for f in fits][:2] == [("test_acc", "nn_mass"), ("test_acc", "params")]
    again = run_training_study("mnist-mlp", **kw)
    assert again.sweep["skipped"] == 8 and again.sweep["done"] == 0
    assert 0 <= first.fits[0]["r2"] <= 1 and again.fits[0]["r2"] == first.fits[0]["r2"]


def test_study_batched_trains_each_shape_once(tmp_path, monkeypatch):
    import nnmass.train
    calls = []
    real = nnmass.train.train_many
    monkeypatch.setattr(nnmass.train, "train_many", lambda specs, *a, **k: calls.append(len(specs)) or real(specs, *a, **k))
    grid = grid_from_dict({"name": "tiny", "model": "dense-mlp", "dataset": "digits", "epochs": 1,
                           "fixed": {"width": 4}, "grid": {"depth": [4, 5]}, "seeds": [0, 1, 2],
                           "ldi": {"batch": 4, "seed": 0}})
    kw = dict(out=tmp_path / "rep", progress=False, n_boot=0, grid=grid)
    one_by_one = run_training_study("mnist-mlp", store=tmp_path / "a.sqlite", **kw)
    assert calls == [] and one_by_one.sweep["done"] == 6  # CPU default: one by one
    batched = run_training_study("mnist-mlp", store=tmp_path / "b.sqlite", batched=True, **kw)
    assert calls == [3, 3] and batched.sweep["done"] == 6  # one stacked model per depth


def test_cifar10_cnn_study_end_to_end_on_cifar_files(tmp_path, tiny_cifar):
    # The packaged CNN study's own grid, cut to 2 architectures x 2 seeds of tiny
    # cells, trained 1 epoch on CIFAR-10 pickles in the real on-disk format.
    tiny_cifar()
    packaged = load_study_grid("cifar10-cnn")
    grid = dataclasses.replace(packaged, epochs=1, seeds=(0, 1), fixed={**packaged.fixed, "wm": 0.25},
                               grid={"depth": [[3, 3, 3]], "tc": [[2, 4, 8], [4, 8, 16]]},
                               train={"batch_size": 8}, ldi={"batch": 2, "seed": 0})
    result = run_training_study("cifar10-cnn", store=tmp_path / "s.sqlite", out=tmp_path / "rep",
                                data_root=str(tmp_path), progress=False, n_boot=0, grid=grid)
    assert result.sweep["done"] == 4 and result.sweep["failed"] == 0
    with ResultStore(tmp_path / "s.sqlite") as store:
        rows = list(store.trials())
    for row in rows:
        spec = spec_from_json(row["spec_json"])
        assert spec.family == "dense-cnn" and spec.in_channels == 3 and spec.input_size == 32
        assert row["nn_mass"] == pytest.approx(spec_mass(spec)) and row["ldi_mean"] > 0
        assert json.loads(row["train_json"])["optimizer"] == "sgd"  # the CNN default
    assert (tmp_path / "rep" / "fig5.png").stat().st_size > 0


def test_nb201_proxy_study_scores_ranks_compares_with_naslib_and_resumes(tmp_path, monkeypatch):

    from nnmass.proxies.combined import STUDY_COMBINATIONS
    from nnmass.proxies.proxy_names import PROXY_NAMES
    from nnmass.studies import nb201_proxies as study

    quick = study.study_tables(True)
    assert [len(t) for t in quick.values()] == [100, 100, 100]
    assert quick["cifar10"].networks == quick["cifar100"].networks  # the same architectures on each dataset
    assert len(study.study_tables(False)["ImageNet16-120"]) == 724
    monkeypatch.setattr(study, "BATCH", 2)  # a test-sized batch; the study's own is 16
    tables = {d: t.subset(range(4)) for d, t in quick.items()}
    kw = dict(store=tmp_path / "s.sqlite", out=tmp_path / "rep", workers=1, progress=False, n_boot=20,
              tables=tables, command="nnmass study nb201-proxies --quick")
    first = study.run_nb201_proxy_study(**kw)
    record = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert record["batch"] == 2 and record["scoring"]["cifar10"]["scored"] == 4
    assert [r["proxy"] for r in record["rank"]["ImageNet16-120"]] == [*PROXY_NAMES, *STUDY_COMBINATIONS]
    assert all(r["n"] == 4 for r in record["rank"]["cifar10"] if r["proxy"] in STUDY_COMBINATIONS)
    assert set(record["agreement"]["cifar10"]) == set(study.NASLIB_NAMES)
    params = record["agreement"]["cifar100"]["params"]
    assert params["n"] == 4 and params["spearman"] == pytest.approx(1.0)  # the same parameter counts
    report = (tmp_path / "rep" / "report.md").read_text()
    assert "## Agreement with NASLib's scores" in report and "proxies_ImageNet16-120.png" in report
    assert (tmp_path / "rep" / "proxies_cifar10.png").stat().st_size > 10_000
    assert {r["dataset"] for r in first.fits} == set(tables) and first.summary[0]["dataset"] == "cifar10"
    again = study.run_nb201_proxy_study(**kw)
    assert again.sweep["scoring"]["cifar10"] == {**again.sweep["scoring"]["cifar10"], "reused": 4, "scored": 0}
    same = lambda a, b: a == b or (math.isnan(a) and math.isnan(b))
    assert all(same(a["rho"], b["rho"]) for a, b in zip(first.summary, again.summary))


def test_naslib_failure_values_read_as_undefined():
    from nnmass.studies.nb201_proxies import naslib_values
    rows = [{"naslib_nwot": v} for v in (1.5, float("-inf"), -1e8, None, -3.0)]
    got = naslib_values(rows, "nwot")
    assert got[0] == 1.5 and got[4] == -3.0 and all(math.isnan(v) for v in got[1:4])


def test_nb201_proxy_study_refuses_training_flags(capsys):
    _one_line_error(capsys, ["study", "nb201-proxies", "--data-root", "."], "drop --data-root")
