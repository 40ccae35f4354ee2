"""Design without training: parsing, closed-form evaluation against built modules and
brute force, objectives, Pareto front, streaming, and the `nnmass design` command."""
import itertools
import json
import subprocess
import sys

import numpy as np
import pytest

from nnmass.cli import main
from nnmass.design import design, expand_range, make_space, read_range_file, resolve_space, spec_of
from nnmass.validate import parse_count
from nnmass.design.catalog import SPACES
from nnmass.mass.mobilenet import mobilenet_v2_mass
from nnmass.design.spaces import axis_column
from nnmass.errors import UsageError
from nnmass.cost import spec_cost
from nnmass.mass.closed_form import spec_mass
from nnmass.spec import MobileNetV2Spec

# Small spaces: a few thousand candidates each, so brute force stays cheap.
SMALL = {
    "dense-cnn": {"wm": "0.5,1,1.5", "depth": "2:6:2", "tc": "0,8,40", "conv": "regular,separable",
                  "input_size": 16},
    "dense-mlp": {"depth": "2:12", "width": "2:9", "tc": "0:20:4", "input_dim": 64},
    "mobilenet_v2": {"width_mult": "0.25:1:0.25", "blocks": "1,2", "blocks.3": "1:3", "expansion": "4,6",
                     "input_size": 64},
}


# --- numbers and ranges ---------------------------------------------------------------

@pytest.mark.parametrize("text,value", [("4e6", 4_000_000), ("4M", 4_000_000), ("400M", 400_000_000),
                                        ("1.5G", 1_500_000_000), ("250k", 250_000), ("4000000", 4_000_000),
                                        ("4.1e6", 4_100_000), (1200, 1200)])
def test_parse_count(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["abc", "-4M", "0", "1.2345k", "4MB", "nan", "inf", "", "4_000_000", "٤M"])
def test_parse_count_rejects_with_the_accepted_forms(text):
    with pytest.raises(UsageError, match="4e6.*400M"):
        parse_count(text, "--max-params")


def test_expand_range_forms():
    assert expand_range("depth", "4:24:4", "int") == (4, 8, 12, 16, 20, 24)
    assert expand_range("depth", "3:5", "int") == (3, 4, 5)
    wm = expand_range("width_mult", "0.35:1.4:0.05", "float")
    assert len(wm) == 22 and wm[0] == 0.35 and wm[-1] == 1.4 and wm[3] == 0.5
    assert expand_range("tc", "1,5,5,2", "int") == (1, 5, 2)
    assert expand_range("tc", [3, 1], "int") == (3, 1)
    assert expand_range("conv", "separable", "choice", ("regular", "separable")) == ("separable",)


@pytest.mark.parametrize("raw,kind,message", [
    ("5:1", "int", "empty"), ("1:5:0", "int", "STEP must be > 0"), ("1:2:3:4", "int", "LO:HI"),
    ("x", "int", "expected an integer"), ("1.5", "int", "expected an integer"), (",", "int", "no values"),
    ("0.5:1", "float", "needs a step"),
])
def test_expand_range_errors(raw, kind, message):
    with pytest.raises(UsageError, match=message):
        expand_range("depth", raw, kind)


def test_space_key_errors_name_valid_keys_and_bounds():
    with pytest.raises(UsageError, match=r"unknown --range key 'width'.*valid keys: .*width_mult.*blocks\[\.i\]"):
        make_space(SPACES["mobilenet_v2"], {"width": "1:2"})
    with pytest.raises(UsageError, match=r"blocks\.7: no such cell or stage; valid: blocks\.0"):
        make_space(SPACES["mobilenet_v2"], {"blocks.7": "1:2"})
    with pytest.raises(UsageError, match=r"depth\.0: 0 is out of range; valid: integers in 1\.\.1024"):
        make_space(SPACES["dense-cnn"], {"depth": "0:3"})
    with pytest.raises(UsageError, match="num_classes takes one value"):
        make_space(SPACES["dense-mlp"], {"num_classes": "2,3"})
    with pytest.raises(UsageError, match="too small for 3 cells"):
        make_space(SPACES["dense-cnn"], {"input_size": 2})


def test_range_files_yaml_and_json(tmp_path):
    (tmp_path / "r.yaml").write_text("depth: '4:8:2'\ntc: [0, 16]\nwm: 2\n")
    (tmp_path / "r.json").write_text(json.dumps({"depth": "4:8:2", "tc": "0,16", "wm": 2}))
    for name in ("r.yaml", "r.json"):
        space = make_space(SPACES["dense-cnn"], read_range_file(tmp_path / name))
        assert space.shape == (2, 1, 3, 3, 3, 2, 2, 2)  # conv, wm, depth per cell, tc per cell
    (tmp_path / "bad.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(UsageError, match="mapping"):
        read_range_file(tmp_path / "bad.yaml")


# --- closed-form evaluation -----------------------------------------------------------

def test_axis_columns_equal_mixed_radix_digits():
    rng = np.random.default_rng(0)
    space = make_space(SPACES["mobilenet_v2"])
    for _ in range(50):
        start = int(rng.integers(0, space.size))
        stop = min(space.size, start + int(rng.integers(1, 200_000)))
        digits = np.unravel_index(np.arange(start, stop), space.shape)
        for axis, stride, d in zip(space.axes, space.strides, digits):
            assert np.array_equal(axis_column(axis.codes, stride, start, stop - start), axis.codes[d])


@pytest.mark.parametrize("name", list(SPACES))
def test_broadcast_terms_equal_direct_evaluation(name):
    space = make_space(SPACES[name])
    rng = np.random.default_rng(1)
    for chunk in (2**20, 5000, 37):
        start = int(rng.integers(0, space.size - 1))
        stop = min(space.size, start + 30_000)
        fast, direct = space.evaluate(start, stop, chunk), space.evaluate_direct(start, stop)
        np.testing.assert_allclose(fast[0], direct[0], rtol=1e-12, atol=1e-9)
        assert np.array_equal(fast[1], direct[1]) and np.array_equal(fast[2], direct[2])


def test_vectorised_mobilenet_mass_equals_spec_mass_over_a_grid():
    rng = np.random.default_rng(2)
    rows = []
    # 0.1 makes stage 1 an identity block (8 -> 8 channels); expansion 1 drops the 1x1 expansion.
    for wm, e in itertools.product((0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.3, 1.4, 2.0), (1, 4, 6)):
        for blocks in [(1, 2, 3, 4, 3, 3, 1)] + [tuple(rng.integers(1, 7, 7)) for _ in range(3)]:
            rows.append((wm, e, blocks, spec_mass(MobileNetV2Spec(width_mult=wm, blocks=blocks, expansion=e))))
    wm, e, blocks, expected = (np.array(c, dtype=object) for c in zip(*rows))
    got = mobilenet_v2_mass(wm.astype(float), np.array(list(blocks), dtype=np.int64), e.astype(np.int64))
    np.testing.assert_allclose(got, expected.astype(float), rtol=1e-12)
    assert mobilenet_v2_mass(1.4, [1, 2, 3, 4, 3, 3, 1]) == pytest.approx(1807.0)  # Table 2
    assert mobilenet_v2_mass(0.75, [1, 2, 3, 4, 3, 3, 1]) == pytest.approx(975.0)


def _measure(model, x):
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


@pytest.mark.parametrize("name,budget", [("dense-cnn", dict(max_params=60_000)),
                                         ("dense-mlp", dict(max_params=3_000)),
                                         ("mobilenet_v2", dict(max_macs=30_000_000))])
def test_chosen_spec_costs_equal_the_built_module(name, budget):
    import torch
    from nnmass.models import build, input_shape
    result = design(name, SMALL[name], **budget)
    spec = spec_of(result.space, result.best, seed=3)
    device = "cpu" if name == "dense-mlp" else "meta"  # meta: exact shapes and counts, no arithmetic
    with torch.device(device):
        params, macs = _measure(build(spec), torch.zeros(input_shape(spec, 1)))
    assert (params, macs) == (result.best.params, result.best.macs)
    assert spec_mass(spec) == pytest.approx(result.best.nn_mass, rel=1e-12)


# --- objectives, Pareto front, streaming ----------------------------------------------

def _all(name):
    space = resolve_space(name, SMALL[name])
    mass, params, macs = space.evaluate_direct(0, space.size)
    return space, mass, params, macs


@pytest.mark.parametrize("name", list(SPACES))
def test_objectives_and_pareto_front_match_brute_force(name):
    space, mass, params, macs = _all(name)
    max_params, max_macs = int(np.median(params)), int(np.quantile(macs, 0.7))
    ok = (params <= max_params) & (macs <= max_macs)
    idx = np.flatnonzero(ok)

    result = design(space, max_params=max_params, max_macs=max_macs, top_k=5)
    expected = sorted(idx, key=lambda i: (-mass[i], macs[i], params[i], i))[:5]
    assert result.feasible == ok.sum() and result.evaluated == space.size
    assert [c.index for c in result.top] == expected
    np.testing.assert_allclose([c.nn_mass for c in result.top], mass[expected], rtol=1e-12)

    # Non-dominated by pairwise comparison of every feasible candidate.
    m, c, p = mass[idx], macs[idx], params[idx]
    front = []
    for k in range(len(idx)):
        weakly = (m >= m[k]) & (c <= c[k]) & (p <= p[k])
        strictly = weakly & ((m > m[k]) | (c < c[k]) | (p < p[k]))
        earlier_twin = weakly & ~strictly & (np.arange(len(idx)) < k)
        if not strictly.any() and not earlier_twin.any():
            front.append(idx[k])
    assert sorted(c.index for c in result.pareto) == front

    target = float(np.quantile(mass, 0.6))
    matched = design(space, max_params=max_params, max_macs=max_macs, match_mass=target, top_k=5)
    hit = idx[mass[idx] >= target]
    assert [c.index for c in matched.top] == sorted(hit, key=lambda i: (macs[i], params[i], -mass[i], i))[:5]


@pytest.mark.parametrize("name", list(SPACES))
def test_streaming_over_chunks_gives_the_same_result(name):
    space, mass, params, macs = _all(name)
    budget = dict(max_params=int(np.quantile(params, 0.8)), top_k=7)
    whole = design(space, chunk_size=2**20, **budget)
    for chunk in (97, 1000):
        bounds = list(space.chunks(chunk))  # contiguous, each at most `chunk`: constant memory
        assert bounds[0][0] == 0 and bounds[-1][1] == space.size and all(b - a <= chunk for a, b in bounds)
        assert all(b == a2 for (_, b), (a2, _) in zip(bounds, bounds[1:]))
        part = design(space, chunk_size=chunk, **budget)
        assert part.best == whole.best and part.top == whole.top
        assert part.pareto == whole.pareto and part.feasible == whole.feasible


def test_infeasible_search_reports_the_closest_candidate():
    space, mass, params, macs = _all("mobilenet_v2")
    result = design(space, max_params=100_000, max_macs=5_000_000)
    worst = np.maximum(params / 100_000, macs / 5_000_000)
    assert result.best is None and result.feasible == 0
    assert result.closest.index == int(np.argmin(worst))
    assert result.violation(result.closest) == pytest.approx(worst.min())


# --- the command ----------------------------------------------------------------------

def run_cli(capsys, *argv):
    code = main(["design", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_match_mobilenet_v2_1_4_under_400m_macs(capsys):
    # The paper's Table 2, model A: NN-Mass 1654, 3.7M params, 393M MACs.
    code, out, _ = run_cli(capsys, "mobilenet_v2", "--match", "mobilenet_v2", "--set", "width_mult=1.4",
                           "--max-macs", "400M", "--json")
    d = json.loads(out)
    best = d["best"]
    assert code == 0 and d["match"]["nn_mass"] == pytest.approx(1807.0)
    assert best["nn_mass"] >= 1807.0 - 1e-9 >= 1650 and best["params"] <= 4e6 and best["macs"] <= 400e6
    assert d["evaluated"] == 1_539_648 and d["feasible"] >= 1 and best["spec"]["family"] == "mobilenet_v2"
    # Fewest MACs: no feasible candidate of the front is cheaper.
    assert best["macs"] == min(c["macs"] for c in d["pareto"])
    chosen = MobileNetV2Spec(**{k: v for k, v in best["spec"].items() if k != "family"})
    assert spec_mass(chosen) == pytest.approx(best["nn_mass"], rel=1e-12)


def test_fixed_width_search_finds_at_least_model_a(capsys):
    # Prop. 2 compares models of similar width: at width 1.0 under the budget of the paper's
    # Table 2 model A (blocks 2,3,4,5,4,3,1: NN-Mass 1654, 3,701,560 params, 375.5M MACs),
    # A is a candidate, so the best must reach its NN-Mass.
    a = MobileNetV2Spec(width_mult=1.0, blocks=(2, 3, 4, 5, 4, 3, 1))
    assert spec_mass(a) == 1654.0 and spec_cost(a).params <= 4e6 and spec_cost(a).macs <= 400e6
    code, out, _ = run_cli(capsys, "mobilenet_v2", "--range", "width_mult=1.0", "--max-params", "4M",
                           "--max-macs", "400M", "--json")
    d = json.loads(out)
    best = d["best"]
    assert code == 0 and best["spec"]["width_mult"] == 1.0 and best["nn_mass"] >= 1654
    assert best["params"] <= 4e6 and best["macs"] <= 400e6
    chosen = MobileNetV2Spec(**{k: v for k, v in best["spec"].items() if k != "family"})
    assert spec_mass(chosen) == best["nn_mass"] and spec_cost(chosen).macs == best["macs"]


@pytest.mark.parametrize("name,budget", [("dense-cnn", ("--max-params", "50k")),
                                         ("mobilenet_v2", ("--max-macs", "30M"))])
def test_out_spec_is_accepted_by_nnmass_mass(capsys, tmp_path, name, budget):
    out = tmp_path / "spec.json"
    ranges = [f"--range={k}={v}" for k, v in SMALL[name].items()]
    code, text, _ = run_cli(capsys, name, *ranges, *budget, "--out", str(out), "--seed", "5")
    assert code == 0 and f"wrote {out}" in text
    best = json.loads(out.read_text())
    assert main(["mass", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    result = design(name, SMALL[name], **{budget[0][2:].replace("-", "_"): parse_count(budget[1])})
    assert report["nn_mass"] == pytest.approx(result.best.nn_mass, rel=1e-12)
    assert report["params"] == result.best.params and best.get("seed", 5) == 5


def test_empty_feasible_set_exits_1_with_the_closest(capsys):
    ranges = [f"--range={k}={v}" for k, v in SMALL["dense-mlp"].items()]
    code, out, _ = run_cli(capsys, "dense-mlp", *ranges, "--max-params", "100")
    assert code == 1 and "no candidate meets the constraints" in out and "closest" in out
    code, out, _ = run_cli(capsys, "dense-mlp", *ranges, "--max-params", "100", "--json")
    d = json.loads(out)
    assert code == 1 and d["best"] is None and d["feasible"] == 0 and d["closest"]["params"] > 100


@pytest.mark.parametrize("argv,message", [
    (["mobilenet_v2", "--max-params", "4X"], "--max-params must be"),
    (["mobilenet_v2", "--range", "depth=1:2"], "unknown --range key 'depth'"),
    (["dense-cnn", "--range", "depth=9:3"], "is empty"),
    (["dense-cnn", "--range", "depth=4", "--range", "depth=5"], "given twice"),
    (["resnet50"], "unknown design space 'resnet50'; valid: dense-cnn, dense-mlp, mobilenet_v2"),
    (["dense-mlp", "--set", "width=3"], "--set applies to the --match model"),
    (["dense-mlp", "--input-size", "32"], "--input-size does not apply to dense-mlp"),
    (["mobilenet_v2", "--input-size", "16"], "--input-size: 16 is out of range; valid: integers in 32..16384"),
    (["mobilenet_v2", "--match", "vgg11"], "NN-Mass 0"),
    (["mobilenet_v2", "--top", "0"], "argument --top: must be an integer >= 1, got '0'"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("nnmass: error: ") and message in err


def test_text_report_and_plot(capsys, tmp_path):
    png = tmp_path / "front.png"
    ranges = [f"--range={k}={v}" for k, v in SMALL["dense-cnn"].items()]
    code, out, _ = run_cli(capsys, "dense-cnn", *ranges, "--max-macs", "5M", "--top", "3", "--plot", str(png))
    assert code == 0 and "top 3:" in out and "Pareto front" in out and "best: NN-Mass" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_design_imports_without_torch():
    code = ("import sys, nnmass.design; d = nnmass.design.design('dense-mlp', {'depth': '4:8'}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_out_spec_runs_in_a_sweep_grid(capsys, tmp_path):
    from nnmass.sweep.grid import load_grid
    from nnmass.spec import spec_from_json
    out = tmp_path / "chosen.json"
    ranges = [f"--range={k}={v}" for k, v in SMALL["dense-mlp"].items()]
    assert run_cli(capsys, "dense-mlp", *ranges, "--max-params", "2k", "--out", str(out), "--seed", "4")[0] == 0
    grid = tmp_path / "grid.yaml"
    grid.write_text(f"model: {out}\ndataset: digits\nepochs: 1\nseeds: [4]\n")
    (trial,) = load_grid(grid).trials()
    assert trial.spec == spec_from_json(out.read_text())  # same seed: the same sampled skips


def test_train_verifies_the_chosen_network(capsys):
    # The synthetic set (32 features, 10 classes) needs no download and no scikit-learn.
    ranges = [f"--range={k}={v}" for k, v in {**SMALL["dense-mlp"], "input_dim": 32}.items()]
    code, out, _ = run_cli(capsys, "dense-mlp", *ranges, "--max-params", "2k", "--train", "--dataset", "synthetic",
                           "--epochs", "1", "--json")
    d = json.loads(out)
    assert code == 0 and d["train"]["dataset"] == "synthetic" and len(d["train"]["history"]) == 1
    assert 0.0 <= d["train"]["test_acc"] <= 1.0


def test_best_candidate_too_large_to_build_still_reports_the_search(capsys, tmp_path):
    # depth ~4095 x width 64 is in the space, but its ~2^29 skip candidates are past what a spec samples.
    ranges = ["--range", "depth=4094:4096", "--range", "width=64", "--range", "tc=10"]
    code, out, _ = run_cli(capsys, "dense-mlp", *ranges, "--json", "--out", str(tmp_path / "s.json"))
    best = json.loads(out)["best"]
    assert code == 1 and best["values"]["depth"] >= 4094 and best["spec"] is None
    assert "candidate skip sources" in best["spec_error"] and not (tmp_path / "s.json").exists()
    code, out, _ = run_cli(capsys, "dense-mlp", *ranges)
    assert code == 1 and "top 3:" in out and "spec: not built: depth 409" in out
