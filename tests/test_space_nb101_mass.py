"""NN-Mass on NAS-Bench-101 networks: a worked example by hand, every merge of a seeded
subset of NASLib's sample classified, and the command line on an NB101 model."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nnmass.cli import main
from nnmass.mass.traced import measure
from nnmass.spaces import get_space
from nnmass.spaces.samples import load_naslib_sample
from nnmass.models.space_networks import build_in_space

ROOT = Path(__file__).resolve().parents[1]
NB101 = get_space("nb101")
SMALL = {"channels": 4, "stacks": 1, "cells": 2}  # stem of 4 channels, one stack of two cells
CHAIN = "input conv3x3-bn-relu conv3x3-bn-relu output".split()


def cell(matrix):
    return NB101.parse(json.dumps({"matrix": matrix, "ops": CHAIN}))


def test_worked_example_concatenation_only():
    """v1 -> v2, output = cat(v1, v2): channels 2 + 2 of the 4-channel output.

    Layers and depths (longest path from the input): stem 1 (4 ch); cell 1: proj 2,
    v1 3, v2 4 (2 ch each); cell 2: proj 5, v1 6, v2 7; classifier 8. The next cell's
    projection reads cat(v1, v2): v2 is its input, v1 (depth 3 -> 5) a long-range
    concatenation link of 2 channels. The last cell's concatenation is read after
    global pooling only, a change of resolution: the cell's output, no link.
    The one cell spans levels v1 (3), v2 (4), proj (5), widths (2, 2, 2):
    possible = W0 = 2, actual = 2, density 1, volume (Eq. 2, all neurons) = 6, m = 6.
    """
    arch = cell([[0, 1, 0, 0], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]])
    model = build_in_space(NB101, arch, None, SMALL)
    widths, possible, actual = (2, 2, 2), 2, 2
    expected = sum(widths) * actual / possible
    report = measure(model, torch.zeros(1, 3, 32, 32))
    assert [c.kind for c in report.cells] == ["concat"] and report.cells[0].widths == widths
    assert report.nn_mass == pytest.approx(expected) == 6.0


def test_worked_example_concatenation_and_output_projection():
    """The same cell with the input also feeding the output: out = cat(v1, v2) + proj(x).

    The sum pairs channels 0-1 of proj(x) with v1 and channels 2-3 with v2 (a sum is
    channel by channel), so the projection is two addition links of 2 channels each,
    landing on v1 and on v2; v1's channels stay concatenated for the next cell.
    Levels: L0 stem (4), L1 proj, L2 v1, L3 v2, L4 proj', L5 v1', L6 v2' (2 ch each).
    Long-range links (span >= 2), channels:
      cell 1 output projection: L0 -> L2 (2), L0 -> L3 (2);
      concatenation of v1 read by proj': L2 -> L4 (2);
      cell 2 output projection reads cat(v1, v2) and lands on v1', v2':
      L2 -> L5 (2), L3 -> L5 (2), L2 -> L6 (2), L3 -> L6 (2).
    actual = 14; possible = sum_{i=2..6} sum_{j<=i-2} W_j = 4 + 6 + 8 + 10 + 12 = 40.
    Both kinds of link: volume = all neurons = 4 + 6 * 2 = 16. m = 16 * 14 / 40 = 5.6.
    With ``shortcuts="identity"`` the projections (1x1 convs) count for nothing and
    only the concatenation link is left: levels L2..L4, m = 6 as above.
    """
    arch = cell([[0, 1, 0, 1], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]])
    model = build_in_space(NB101, arch, None, SMALL)
    W = [4, 2, 2, 2, 2, 2, 2]
    possible = sum(sum(W[:i - 1]) for i in range(2, len(W)))
    actual = 2 + 2 + 2 + 4 * 2
    assert (possible, actual) == (40, 14)
    report = measure(model, torch.zeros(1, 3, 32, 32))
    assert len(report.cells) == 1 and report.cells[0].widths == tuple(W)
    assert report.cells[0].actual == actual and report.cells[0].kind == "mixed"
    assert report.nn_mass == pytest.approx(sum(W) * actual / possible) == pytest.approx(5.6)
    identity = measure(model, torch.zeros(1, 3, 32, 32), shortcuts="identity")
    assert identity.nn_mass == pytest.approx(6.0)


def test_nn_mass_is_defined_on_a_seeded_subset_of_the_sample():
    """Every merge classified (``allow_unclassified=False``) on 12 of the 301 distinct
    cells, at 16 stem channels (classification does not depend on the width)."""
    archs = sorted({r["arch"] for r in load_naslib_sample("nb101")})
    picks = np.random.default_rng(101).choice(len(archs), 12, replace=False)
    masses = []
    for i in picks:
        model = build_in_space(NB101, NB101.parse(archs[int(i)]), None, {"channels": 16})
        report = measure(model, torch.zeros(1, 3, 32, 32), allow_unclassified=False)
        assert not report.unclassified
        masses.append(report.nn_mass)
    assert len(set(masses)) > 3


def test_the_command_line_measures_and_scores_an_nb101_model(capsys):
    arch = json.dumps({"matrix": [[0, 1, 0, 1], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]], "ops": CHAIN})
    run = [sys.executable, "-m", "nnmass"]
    sets = ["--set", "channels=4", "--set", "stacks=1", "--set", "cells=2"]
    out = subprocess.run(run + ["mass", f"nb101:{arch}", *sets, "--json"], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert json.loads(out.stdout)["nn_mass"] == pytest.approx(5.6)
    naslib = "(0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 4, 1)"
    out = subprocess.run(run + ["proxies", f"nb101:{naslib}", *sets, "--proxies", "params,nn_mass,synflow",
                                "--batch", "2", "--json"], capture_output=True, text=True, cwd=ROOT, check=True)
    scores = json.loads(out.stdout)["scores"]
    model = build_in_space(NB101, NB101.parse(arch), None, SMALL)
    assert scores["params"] == sum(p.numel() for p in model.parameters())
    assert scores["nn_mass"] == pytest.approx(5.6) and scores["synflow"] > 0
    assert main(["mass", "nb101:(0, 1, 1, 0, 0, 1)"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "back edge" in err
