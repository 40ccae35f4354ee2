"""`nnmass mass` and `nnmass zoo` end to end, and one-line errors for bad input."""
import json
import subprocess
import sys

import pytest

from nnmass.cli import main
from nnmass.families import FAMILIES


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    out = capsys.readouterr()
    assert out.err == ""
    return json.loads(out.out)


@pytest.mark.parametrize("width,mass,millions", [("1.4", 1807.0, 6.1), ("0.75", 975.0, 2.6)])
def test_mass_mobilenet_v2_table2(capsys, width, mass, millions):
    rec = run_json(capsys, "mass", "mobilenet_v2", "--set", f"width_mult={width}", "--json")
    assert round(rec["nn_mass"], 1) == mass
    assert round(rec["params"] / 1e6, 1) == millions
    assert rec["macs"] > 0 and all("density" in c for c in rec["cells"])
    # Every cell is an inverted residual W1 -> 6 W1 -> 6 W1 -> W1: density W1 / (2 W1 + 6 W1).
    assert all(c["density"] == pytest.approx(1 / 8) for c in rec["cells"])


def test_mass_dense_mlp_fact(capsys):
    rec = run_json(capsys, "mass", "dense-mlp", "--set", "width=8", "--set", "depth=16", "--set", "tc=10", "--json")
    assert round(rec["nn_mass"], 4) == 21.0286
    (cell,) = rec["cells"]
    assert cell["density"] == pytest.approx(2 * (8 + 13 * 10) / (8 * 15 * 14))
    # Params worked by hand, the authors' layout: 784*8+8; layers 1..14 have 8 + t_i inputs
    # (t_1 = 0, t_2 = 8, then 10) and 8 outputs with biases; the classifier, layer 15,
    # reads 8 + t_15 = 18 inputs: 18*10+10.
    assert rec["params"] == 784 * 8 + 8 + 8 * (8 + 16 + 12 * 18) + 14 * 8 + 18 * 10 + 10 == 8502
    hidden = run_json(capsys, "mass", "dense-mlp", "--set", "width=8", "--set", "depth=16", "--set", "tc=10",
                      "--set", "layout=hidden", "--json")
    # 16 hidden layers (t_1 = 0, t_2 = 8, then 10), then an 8*10+10 classifier outside the cell.
    assert hidden["params"] == 784 * 8 + 8 + 8 * (15 * 8 + 138) + 15 * 8 + 8 * 10 + 10
    assert hidden["nn_mass"] == rec["nn_mass"]


def test_mass_dense_cnn_densities(capsys):
    rec = run_json(capsys, "mass", "dense-cnn", "--set", "depth=4,6,2", "--set", "tc=3,40,5",
                   "--set", "wm=1", "--json")
    widths, depths, tcs = (16, 32, 64), (4, 6, 2), (3, 40, 5)
    expect = []
    for w, d, tc in zip(widths, depths, tcs):
        links = sum(min(w * (i - 1), tc) for i in range(2, d))
        expect.append(2 * links / (w * (d - 1) * (d - 2)) if d > 2 else 0.0)
    assert [c["density"] for c in rec["cells"]] == pytest.approx(expect)
    assert rec["nn_mass"] == pytest.approx(sum(w * d * r for w, d, r in zip(widths, depths, expect)))


def test_mass_table_prints(capsys):
    assert main(["mass", "resnet18"]) == 0
    out = capsys.readouterr().out
    assert "resnet18" in out and "3392" in out and "11.7M" in out


def test_zoo_table_and_json(capsys):
    assert main(["zoo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + len(FAMILIES)
    assert [ln.split()[0] for ln in lines[2:]] == list(FAMILIES)
    rec = run_json(capsys, "zoo", "--json")
    rows = {r["name"]: r for r in rec["families"]}
    assert list(rows) == list(FAMILIES)
    # By hand: resnet18 counts its 5 identity basic blocks, 2*(64+64) + 256 + 512 + 1024, and
    # its 3 projection blocks, (64+128) + (128+256) + (256+512) (the authors' 3392);
    # densenet121 has density 1, so m = sum of the nodes of its 4 blocks; VGG has no skips.
    assert rows["resnet18"]["nn_mass"] == 2048 + 1344 == 3392 and rows["resnet18"]["cells"] == 8
    assert rows["densenet121"]["nn_mass"] == (64 + 6 * 32) + (128 + 12 * 32) + (256 + 24 * 32) + (512 + 16 * 32)
    assert rows["vgg16"]["nn_mass"] == 0 and rows["vgg16"]["layers"] == 16
    assert round(rows["dense-mlp"]["nn_mass"], 4) == 21.0286
    for r in rows.values():
        assert r["params"] > 0 and r["macs"] > 0 and r["layers"] > 0


def test_zoo_is_closed_form_only():
    # The zoo command itself never needs torch, let alone a built module.
    code = ("import sys, argparse\nfrom nnmass.cli.zoo import run\n"
            "assert run(argparse.Namespace(json=True)) == 0\n"
            "print('torch' in sys.modules, file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip() == "False"
    assert len(json.loads(out.stdout)["families"]) == len(FAMILIES)


BAD_INPUT = [
    (["mass", "dense-mlp", "--set", "depth=1"], "depth must be an integer >= 2"),
    (["mass", "dense-mlp", "--set", "depth=-4"], "depth must be an integer >= 2"),
    (["mass", "dense-mlp", "--set", "width=0"], "width must be an integer in 1..65536"),
    (["mass", "dense-mlp", "--set", "width=-8"], "width must be an integer in 1..65536"),
    (["mass", "dense-mlp", "--set", "tc=-1"], "tc must be an integer >= 0"),
    (["mass", "dense-cnn", "--set", "tc=1,2"], "tc needs 1 or num_cells=3 values, got 2"),
    (["mass", "dense-cnn", "--set", "depth=4,0,4"], "depth must be an integer >= 1"),
    (["mass", "dense-cnn", "--set", "wm=0"], "wm must be a number > 0 and <= 64"),
    (["mass", "mobilenet_v2", "--set", "width_mult=-1"], "width_mult must be a number > 0 and <= 64"),
    (["mass", "resnet9"], "unknown model 'resnet9'; valid: dense-mlp"),
    (["mass", "dense-mlp", "--set", "colour=red"], "unknown key(s) colour for dense-mlp; valid keys:"),
    (["mass", "dense-mlp", "--set", "width"], "--set takes KEY=VALUE, got 'width'"),
    (["mass", "dense-mlp", "--set", "width=eight"], "must be an integer in 1..65536"),
    (["mass", "{tmp}/missing.json"], "cannot read spec file"),
    (["mass", "{tmp}/bad.json"], "malformed spec JSON"),
    (["mass", "{tmp}/list.json"], "a spec must be a JSON object with a 'family' key"),
    (["zoo", "--colour"], "unrecognized arguments: --colour"),
    # Count and seed options of every subcommand share one parser and one message.
    (["ldi", "dense-mlp", "--batch", "0"], "argument --batch: must be an integer in 1..65536, got '0'"),
    (["ldi", "dense-mlp", "--positions", "2.5"], "argument --positions: must be an integer >= 1, got '2.5'"),
    (["ldi", "dense-mlp", "--seed", "-1"], "argument --seed: must be an integer in 0..9223372036854775807, got '-1'"),
    (["sweep", "g.yaml", "--store", "s", "--workers", "0"], "argument --workers: must be an integer in 1.."),
    (["study", "mnist-mlp", "--workers", "x"], "argument --workers: must be an integer in 1.."),
    (["fit", "s", "--bootstrap", "-5"], "argument --bootstrap: must be an integer in 0..100000, got '-5'"),
    (["report", "s", "--out", "d", "--seed", "-2"], "argument --seed: must be an integer in 0..9223372036854775807, got '-2'"),
    (["design", "dense-mlp", "--chunk-size", "0"], "argument --chunk-size: must be an integer in 1..16777216"),
    (["bounds", "--trials", "0"], "argument --trials: must be an integer >= 1, got '0'"),
    (["train", "dense-mlp", "--batch-size", "0"], "argument --batch-size: must be an integer >= 1, got '0'"),
]


@pytest.mark.parametrize("argv,message", BAD_INPUT, ids=[" ".join(a[1:]) for a, _ in BAD_INPUT])
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, argv, message):
    (tmp_path / "bad.json").write_text('{"family": "dense-mlp", "width": ')
    (tmp_path / "list.json").write_text("[1, 2]")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnmass: error: ")
    assert message in lines[0] and "Traceback" not in out.err


def test_real_process(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "nnmass", "mass", "mobilenet_v2", "--set", "width_mult=1.4",
                         "--json"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stderr == ""
    rec = json.loads(ok.stdout)
    assert rec["nn_mass"] == pytest.approx(1807.0) and round(rec["params"] / 1e6, 1) == 6.1
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    err = subprocess.run([sys.executable, "-m", "nnmass", "mass", str(bad)], capture_output=True, text=True)
    assert err.returncode == 2 and err.stdout == ""
    assert err.stderr.startswith("nnmass: error: malformed spec JSON") and err.stderr.count("\n") == 1
    assert "Traceback" not in err.stderr


def test_no_help_text_prints_a_doubled_percent(capsys):
    """Descriptions are module docstrings, which argparse prints as written, and help
    strings are %-formatted: either way the user should see ``10%``, never ``10%%``."""
    from nnmass.cli import SUBCOMMANDS
    for command in ((), *((name,) for name in SUBCOMMANDS)):
        with pytest.raises(SystemExit) as done:
            main([*command, "--help"])
        assert done.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("usage: nnmass") and "%%" not in out, command
    with pytest.raises(SystemExit):
        main(["rank", "--help"])
    assert "top-10% precision" in " ".join(capsys.readouterr().out.split())
