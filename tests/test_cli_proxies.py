"""``nnmass proxies MODEL``: the JSON contract, the values (equal to each proxy's own
function on the same seeded network and batch), dataset inputs, one-line errors."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nnmass import proxies
from nnmass.cli import main
from nnmass.models.nb201 import build_nb201

ROOT = Path(__file__).resolve().parents[1]
ARCH = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|"


def run_json(capsys, *argv):
    assert main(["proxies", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_nb201_json_has_every_score_and_the_settings_and_equals_each_proxy(capsys):
    out = run_json(capsys, f"nb201:{ARCH}", "--set", "num_classes=5", "--batch", "3", "--seed", "2",
                   "--input-shape", "1,3,8,8")
    assert list(out["scores"]) == proxies.names() == out["proxies"]
    assert {k: out[k] for k in ("model", "batch", "seed", "inputs", "input_shape", "num_classes", "device")} == {
        "model": f"nb201:{ARCH}", "batch": 3, "seed": 2, "inputs": "gaussian", "input_shape": [3, 8, 8],
        "num_classes": 5, "device": "cpu"}
    assert set(out["seconds"]) == set(out["scores"]) and out["undefined"] == [
        k for k, v in out["scores"].items() if v is None]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(2)  # the command seeds the init of module sources
        model = build_nb201(ARCH, num_classes=5)
    own = proxies.run_proxies(model, proxies.gaussian_batch((3, 8, 8), batch_size=3, num_classes=5, seed=2)).scores
    assert {k: None if math.isnan(v) else v for k, v in own.items()} == out["scores"]


def test_a_family_on_dataset_inputs_takes_the_data_shape(capsys):
    out = run_json(capsys, "dense-mlp", "--set", "depth=5", "--set", "width=4", "--inputs", "digits",
                   "--proxies", "snip,params,nwot", "--batch", "8")
    assert out["input_shape"] == [64] and out["num_classes"] == 10 and out["inputs"] == "digits"
    assert list(out["scores"]) == ["snip", "params", "nwot"]
    assert out["scores"]["nwot"] is None and out["undefined"] == ["nwot"]  # ELU MLP: no ReLU codes
    assert out["scores"]["snip"] > 0


def test_text_output_names_the_settings(capsys):
    assert main(["proxies", "dense-mlp", "--set", "depth=4", "--set", "width=4", "--proxies", "params,synflow",
                 "--batch", "2"]) == 0
    text = capsys.readouterr().out
    assert "synflow" in text and "batch 2 x 784 of gaussian inputs, 10 classes, seed 0, cpu" in text


@pytest.mark.parametrize("argv, match", [
    (["dense-mlp", "--proxies", "snip,nope"], "unknown proxy 'nope'"),
    (["dense-mlp", "--batch", "1"], "--batch 1 is too small for jacob_cov, nwot, zico: they compare samples"),
    (["nb201:|conv~0|"], "bad NB201 arch"),
    ([f"nb201:{ARCH}", "--input-shape", "1,3,2,2", "--proxies", "snip"], "cannot score nb201:"),
    (["dense-mlp", "--inputs", "nowhere"], "unknown dataset 'nowhere'"),
])
def test_bad_input_is_one_line_exit_2(argv, match):
    out = subprocess.run([sys.executable, "-m", "nnmass", "proxies", *argv], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and match in out.stderr, out.stderr
