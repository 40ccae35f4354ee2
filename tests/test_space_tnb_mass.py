"""NN-Mass on TransNAS-Bench-101 networks: defined on every network (a seeded
subset of the samples here), worked examples computed by hand, and the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nnmass import measure
from nnmass.cli import main
from nnmass.spaces import get_space
from nnmass.spaces.samples import load_naslib_sample
from nnmass.spaces.transnas_params import network_params
from nnmass.models.space_networks import build_in_space

ROOT = Path(__file__).resolve().parents[1]
MICRO, MACRO = get_space("tnb-micro"), get_space("tnb-macro")
SMALL = {"channels": "8"}


def mass_of(space, text, task="class_scene", sets=SMALL, size=64):
    model = build_in_space(space, space.parse(text), task, sets).eval()
    return measure(model, torch.randn(1, 3, size, size), allow_unclassified=False).nn_mass


def test_worked_example_micro_cell_by_hand():
    """``64-41414-3_13_303`` at 8 stem channels: edges 1<-0 conv3x3, 2<-0 skip, 2<-1 conv3x3,
    3<-0 conv3x3, 3<-1 none, 3<-2 conv3x3.

    In each cell the convs 1<-0, 2<-1, 3<-2 are the main path, nodes of widths
    (w0, w1, w2, w3). Two links are long-range: the skip 2<-0 (node 0 -> node 2) and
    the conv 3<-0 (node 0 -> node 3), each of its narrowest width, min(c_in, c_out);
    3<-1 is ``none``, no link. Possible = w0 + (w0 + w1); volume (additions, Eq. 3) =
    w0 + w1 + w2; m = volume * actual / possible.
    """
    def cell(c_in, c_out):
        w0, w1, w2 = c_in, c_out, c_out
        actual = min(c_in, c_out) + min(c_in, c_out)
        possible = w0 + (w0 + w1)
        volume = w0 + w1 + w2
        return volume * actual / possible

    # module codes 4 1 4 1 4 from 8 channels: 8->16 (halve), 16, 16->32 (halve), 32, 32->64 (halve)
    plan = [(8, 16), (16, 16), (16, 16), (16, 16), (16, 32), (32, 32), (32, 32), (32, 32), (32, 64), (64, 64)]
    hand = sum(cell(a, b) for a, b in plan)
    # a halving cell a -> 2a: 5a * 2a / 4a = 2.5a; a cell at c: 3c * 2c / 3c = 2c
    assert hand == 2.5 * (8 + 16 + 32) + 2 * (3 * 16 + 3 * 32 + 64) == 556
    assert mass_of(MICRO, "64-41414-3_13_303") == pytest.approx(hand)


def test_worked_example_all_conv_cell_has_density_one():
    """All six edges conv3x3: links 2<-0, 3<-0, 3<-1 all long-range, density 1, so each cell's
    mass is its volume: 5a for a halving cell a -> 2a, 3c for a cell at c."""
    hand = 5 * (8 + 16 + 32) + 3 * (3 * 16 + 3 * 32 + 64)
    assert hand == 904
    assert mass_of(MICRO, "64-41414-3_33_333") == pytest.approx(hand)


def test_worked_example_macro_stage_by_hand():
    """``64-1242-basic`` at 8 channels: each basic block is a chain x -> conv_a -> conv_b with
    one long-range link x -> the sum, min(c_in, c_out) channels (the 1x1 projection, or the
    identity). Possible = w0 = c_in, so density 1 and m = volume = c_in + c_out."""
    blocks = [(8, 8), (8, 8), (8, 16), (16, 16), (16, 32), (32, 32), (32, 64), (64, 64)]
    hand = sum(min(a, b) / a * (a + b) for a, b in blocks)
    assert hand == 424
    assert mass_of(MACRO, "64-1242-basic") == pytest.approx(hand)


@pytest.mark.parametrize("name", ["tnb-micro", "tnb-macro"])
def test_nn_mass_is_defined_on_a_seeded_subset_of_the_sample(name):
    space = get_space(name)
    archs = sorted({r["arch"] for r in load_naslib_sample(name)})
    rng = np.random.default_rng(0)
    for i in rng.choice(len(archs), 6, replace=False):
        assert mass_of(space, archs[int(i)], sets={"channels": "16"}) >= 0


def test_the_head_leaves_nn_mass_unchanged():
    """The heads and decoders are chains with no long-range links."""
    masses = {task: mass_of(MICRO, "64-41414-1_02_103", task) for task in
              ("class_scene", "room_layout", "segmentsemantic", "normal")}
    assert len(set(masses.values())) == 1 and masses["class_scene"] > 0


def run_cli(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_mass_and_proxies_on_the_benchmark_network(capsys):
    mass = run_cli(capsys, "mass", "tnb-macro:64-1242-basic")
    assert mass["nn_mass"] == 8 * 424  # the 8-channel worked example, 8 times wider (m is linear in width)
    light = "64-41414-1_00_210"  # NASLib's (1, 0, 0, 2, 1, 0), 0.26 GFLOPs: the CLI at full size stays cheap
    out = run_cli(capsys, "proxies", f"tnb-micro:{light}", "--set", "task=room_layout", "--proxies",
                  "params,nn_mass,synflow", "--batch", "2")
    assert out["input_shape"] == [3, 256, 256] and out["num_classes"] == 9
    assert out["scores"]["params"] == network_params("41414", (1, 0, 0, 2, 1, 0), "room_layout", 9) == 882985
    assert out["scores"]["nn_mass"] == mass_of(MICRO, light, sets={}) and out["scores"]["synflow"] > 0


def test_cli_refuses_a_bad_architecture_in_one_line():
    out = subprocess.run([sys.executable, "-m", "nnmass", "mass", "tnb-micro:64-41414-5_00_000"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "op code 5" in out.stderr and "Traceback" not in out.stderr
