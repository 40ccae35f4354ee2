"""`nnmass mass` on hand-written model files, torchvision and timm models: the traced
numbers equal the hand-worked masses of tests/test_trace_handwritten.py and the
closed forms of the same networks; user mistakes are one line."""
import json
import textwrap

import pytest

from nnmass.cli import main
from test_trace_handwritten import SLICE_CONCAT_MASS, Basic, FeatureProduct, SliceConcat


MODEL_FILE = '''
import torch
from torch import nn

INPUT_SHAPE = (1, 5)

{classes}

def product():
    return FeatureProduct()
'''


@pytest.fixture
def model_file(tmp_path):
    import inspect
    classes = "\n\n".join(textwrap.dedent(inspect.getsource(c)) for c in (SliceConcat, Basic, FeatureProduct))
    path = tmp_path / "models.py"
    path.write_text(MODEL_FILE.format(classes=classes))
    return path


def test_cli_file_factory_with_input_shape(model_file, capsys):
    assert main(["mass", f"{model_file}:SliceConcat", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["input_shape"] == [1, 5] and out["method"] == "graph"
    assert out["nn_mass"] == pytest.approx(SLICE_CONCAT_MASS)
    assert out["params"] == sum(p.numel() for p in SliceConcat().parameters())
    assert out["macs"] == 5 * 4 + 4 * 4 + 7 * 4 + 10 * 4 + 4 * 2  # one MAC per weight of each linear
    (cell,) = out["cells"]
    assert (cell["kind"], cell["width"], cell["depth"], cell["first"], cell["last"]) == ("concat", 4, 4, "l0", "l3")
    assert cell["density"] == pytest.approx(8 / 12)


def test_cli_unsupported_construct_exits_2_with_one_line(model_file, capsys):
    assert main(["mass", f"{model_file}:product", "--input-shape", "1,3,8,8"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnmass: error:") and "mul" in lines[0]
    assert captured.out == ""
    assert main(["mass", f"{model_file}:product", "--input-shape", "1,3,8,8", "--allow-unclassified"]) == 0
    assert "not classified: mul" in capsys.readouterr().out


def test_cli_torchvision_resnet18_json(capsys):
    assert main(["mass", "torchvision:resnet18", "--input-shape", "1,3,32,32", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # Five identity basic blocks: 2 x (64+64), then 128+128, 256+256, 512+512; and three
    # projection blocks, each delivering min(in, out) = in channels: 64+128, 128+256, 256+512.
    assert out["nn_mass"] == pytest.approx(2 * 128 + 256 + 512 + 1024 + 192 + 384 + 768) == 3392
    assert out["params"] == 11689512
    assert [c["kind"] for c in out["cells"]] == ["add"] * 8
    assert all({"density", "width", "depth", "mass", "first", "last"} <= set(c) for c in out["cells"])


@pytest.mark.parametrize("argv,needle", [
    (["mass", "torchvision:no_such_net"], "list_models"),
    (["mass", "torchvision:resnet18", "--method", "formula"], "--method graph"),
    (["mass", "torchvision:resnet18", "--input-shape", "1,three"], "positive integers"),
    (["mass", "nowhere.py:make"], "not found"),
    (["mass", "torchvision:resnet18", "--input-shape", "1,5,32,32"], "3 channels"),
])
def test_cli_bad_input_is_one_line(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]


def test_cli_graph_method_on_a_family_matches_formula(capsys):
    assert main(["mass", "resnet50", "--method", "graph", "--shortcuts", "all", "--input-shape", "1,3,32,32",
                 "--json"]) == 0
    graph = json.loads(capsys.readouterr().out)
    assert main(["mass", "resnet50", "--shortcuts", "all", "--json"]) == 0
    formula = json.loads(capsys.readouterr().out)
    assert graph["method"] == "graph" and formula["method"] == "formula"
    assert graph["nn_mass"] == pytest.approx(formula["nn_mass"])
    assert [c["mass"] for c in graph["cells"]] == pytest.approx([c["mass"] for c in formula["cells"]])


def test_cli_timm_without_timm_says_how_to_install(monkeypatch, capsys):
    import sys
    monkeypatch.setitem(sys.modules, "timm", None)  # import timm now raises ImportError
    assert main(["mass", "timm:resnet18"]) == 2
    assert "pip install timm" in capsys.readouterr().err


@pytest.mark.parametrize("timm_name, ours", [
    ("resnet18", "resnet18"), ("resnet50", "resnet50"), ("mobilenetv2_100", "mobilenet_v2"),
    ("densenet121", "densenet121"), ("wide_resnet50_2", "wide_resnet50_2"),
    ("resnext50_32x4d", "torchvision:resnext50_32x4d"),
])
def test_timm_models_trace_to_the_closed_form_of_the_same_network(capsys, timm_name, ours):
    # timm writes these networks its own way (its own blocks, SiLU/ReLU modules,
    # its own DenseNet layers); traced, they must give torchvision's numbers.
    pytest.importorskip("timm")
    assert main(["mass", f"timm:{timm_name}", "--json"]) == 0
    theirs = json.loads(capsys.readouterr().out)
    assert main(["mass", ours, "--json"]) == 0
    reference = json.loads(capsys.readouterr().out)
    assert theirs["method"] == "graph" and theirs["nn_mass"] > 0
    assert theirs["nn_mass"] == pytest.approx(reference["nn_mass"]) and theirs["params"] == reference["params"]
