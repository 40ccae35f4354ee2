"""Hostile input on the command line and in the files users give (grids, range files,
spec files, model factories): each is refused with one short line and exit 2,
before anything large is allocated or any store is made.

Storage, output files and processes are in test_hostile_storage.py.
"""
import os
import signal
import subprocess
import sys
import time

import pytest

from hostile_helpers import refused
from nnmass.cli import main

SEED_TOO_BIG = "99999999999999999999999"
GRID = "name: h\nmodel: dense-mlp\ndataset: digits\nepochs: 1\nfixed: {width: 4}\n"

# (argv, what the one line must say); each case runs in this process in milliseconds.
ARGS = [
    (["ldi", "dense-mlp", "--seed", SEED_TOO_BIG], "must be an integer in 0..9223372036854775807"),
    (["train", "dense-mlp", "--seed", SEED_TOO_BIG], "must be an integer in 0..9223372036854775807"),
    (["train", "dense-mlp", "--split-seed", "-1"], "must be an integer in 0.."),
    (["design", "dense-mlp", "--max-params", "-3M"], "--max-params must be > 0"),
    (["design", "dense-mlp", "--max-params=-3M"], "--max-params must be > 0"),
    (["design", "dense-mlp", "--max-macs", "-1e5"], "--max-macs must be > 0"),
    (["design", "dense-mlp", "--max-params", "1_000"], "--max-params must be a whole number"),
    (["ldi", "dense-mlp", "--batch", "-5"], "must be an integer in 1..65536, got '-5'"),
    (["bounds", "--mass", "0,,8"], "--mass must be comma-separated numbers >= 0, got '0,,8'"),
    (["bounds", "--mass", "0,8,"], "--mass must be comma-separated numbers"),
    (["bounds", "--mass", "1_0"], "--mass must be a number >= 0, got '1_0'"),
    (["bounds", "--mass", "-1"], "--mass must be a number >= 0"),
    (["bounds", "--mass", "1e12"], "over the 134,217,728 a run may draw"),
    (["bounds", "--mass", "inf"], "--mass must be a number >= 0, got 'inf'"),
    (["bounds", "--width", "100000"], "must be an integer in 1..4096, got '100000'"),
    (["bounds", "--trials", "100000000"], "over the 134,217,728 a run may draw"),
    (["bounds", "--q", "nan"], "must be a number > 0, got 'nan'"),
    (["bounds", "--q", "1_0"], "must be a number > 0, got '1_0'"),
    (["ldi", "dense-mlp", "--batch", "100000000"], "must be an integer in 1..65536"),
    (["ldi", "dense-mlp", "--batch", "65536", "--set", "input_dim=100000"],
     "over the 67,108,864 one input batch may hold"),
    (["ldi", "resnet18", "--set", "input_size=16384", "--batch", "1"], "over the 67,108,864"),
    (["ldi", "mobilenet_v2", "--set", "width_mult=64"], "parameters, over the 2,147,483,648 nnmass builds"),
    (["ldi", "dense-mlp", "--set", "depth=1000000", "--set", "tc=0"], "1,000,000 layers, over the 10,000"),
    (["mass", "dense-mlp", "--set", "width=100000"], "width must be an integer in 1..65536, got 100000"),
    (["mass", "dense-mlp", "--set", "num_classes=100000"], "num_classes must be an integer in 1..65536"),
    (["mass", "dense-mlp", "--set", "depth=1_6"], "--set depth='1_6': must be an integer >= 2"),
    (["mass", "dense-mlp", "--set", "width=8.5"], "--set width='8.5': must be an integer in 1..65536"),
    (["mass", "mobilenet_v2", "--set", "width_mult=x"], "--set width_mult='x': must be a number > 0"),
    (["mass", "dense-mlp", "--set", "depth=\u0661\u0666"], "must be an integer >= 2"),
    (["mass", "dense-mlp", "--set", "depth=" + "9" * 5000], "must be an integer >= 2"),
    (["mass", "dense-cnn", "--set", "num_cells=8", "--set", "depth=4", "--set", "tc=4", "--set", "wm=64",
      "--set", "input_size=128"], "131,072 channels wide, over the 65,536"),
    (["mass", "resnet50", "--set", "width_per_group=100000"], "width_per_group must be an integer in 1..65536"),
    (["mass", "vgg11", "--set", "input_size=100000"], "input_size must be an integer in 32..16384"),
    (["mass", "resnet18", "--input-shape", "1,3,32,32"], "--input-shape applies when tracing"),
    (["mass", "torchvision:resnet18", "--input-shape", "1,3,100000,100000"],
     "--input-shape 1x3x100000x100000 is 30,000,000,000 numbers"),
    (["mass", "torchvision:resnet18", "--input-shape", "1,3,3_2,32"], "--input-shape must be at least 2"),
    (["mass", "torchvision:resnet18", "--input-shape", "1,,3"], "--input-shape must be at least 2"),
    (["design", "dense-mlp", "--range", "depth=1:100000000", "--max-params", "20k"],
     "--range depth: 100000000 is out of range; valid: integers in 1..4096"),
    (["design", "dense-mlp", "--range", "tc=0:100000000"], "has 100,000,001 values, over the 1,048,576"),
    (["design", "dense-mlp", "--range", "tc=0:1e308:1"], "--range tc: expected an integer, got '1e308'"),
    (["design", "dense-mlp", "--range", "depth=1_6"], "--range depth: expected an integer, got '1_6'"),
    (["design", "dense-mlp", "--range", "depth=\u0661\u0666"], "--range depth: expected an integer"),
    (["design", "dense-mlp", "--range", "width=100000"], "valid: integers in 1..65536"),
    (["design", "dense-cnn", "--input-size", "1_6"], "argument --input-size: must be an integer in 1..16384"),
    (["design", "dense-cnn", "--range", "num_cells=8", "--input-size", "128", "--range", "wm=64"],
     "131,072 channels wide"),
    (["design", "mobilenet_v2", "--range", "width_mult=0.1:1e300:0.1"], "is out of range; valid: numbers > 0"),
    (["sweep", "g.yaml", "--store", "s.sqlite", "--workers", "100000"],
     "argument --workers: must be an integer in 1.."),
    (["study", "mnist-mlp", "--workers", "100000"], "4 per CPU core"),
    (["train", "dense-mlp", "--lr", "1_0"], "argument --lr: must be a number, got '1_0'"),
    (["train", "dense-mlp", "--momentum", "inf"], "argument --momentum: must be a number, got 'inf'"),
    (["mass", "dense-mlp", "--set", "x" * 100000 + "=1"], "unknown key(s)"),
    (["fit", "s.sqlite", "--bootstrap", "100000000"], "argument --bootstrap: must be an integer in 0..100000"),
    (["design", "dense-mlp", "--chunk-size", "10000000000"], "argument --chunk-size: must be an integer in 1.."),
    # Options that would do nothing are refused, not ignored; values torch cannot take are refused up front.
    (["ldi", "dense-mlp", "--positions", "5", "--batch", "2"], "--positions applies to CNNs"),
    (["design", "dense-mlp", "--dataset", "digits"], "--dataset applies to --train; add --train or drop it"),
    (["design", "dense-mlp", "--epochs", "3", "--data-root", "."], "--data-root and --epochs apply to --train"),
    (["search", "nb201", "--samples", "5", "--target", "cifar10"], "--target names a column of --table"),
    (["proxies", "dense-mlp", "--data-root", ".", "--proxies", "params"], "--data-root goes with --inputs DATASET"),
    (["rank", "t.csv", "--arch-column", "a", "--target", "b", "--data-root", "."], "--data-root goes with --inputs"),
    (["train", "dense-mlp", "--dataset", "digits", "--momentum", "0.5"],
     "--momentum is SGD's; dense-mlp trains with adam"),
    (["train", "dense-mlp", "--dataset", "digits", "--batch-size", "100000"],
     "--batch-size 100,000 is more than the 1,438 training examples of digits; valid: 1..1,438"),
    (["train", "dense-mlp", "--lr", "1e39"], "lr must be a number > 0 and <= 1e+37, got 1e+39"),
    (["train", "dense-mlp", "--weight-decay", "1e308"], "weight_decay must be a number >= 0 and <= 3.40282e+38"),
    (["proxies", "dense-mlp", "--proxies", "foo+params"], "--proxies: unknown proxy 'foo' in 'foo+params'"),
    (["proxies", "dense-mlp", "--proxies", "nn_mass+"], "--proxies: empty member in 'nn_mass+'"),
]


@pytest.mark.parametrize("argv,needle", ARGS, ids=[" ".join(a)[:60] for a, _ in ARGS])
def test_bad_arguments_get_one_line_and_exit_2(capsys, argv, needle):
    start = time.perf_counter()
    refused(capsys, argv, needle)
    assert time.perf_counter() - start < 20  # refused before any work, not after


def _bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


# (file name, text, extra arguments after the file, what the line must say): grid files for `sweep`.
GRIDS = [
    ("bomb.yaml", _bomb(), "uses YAML aliases that expand to more than 10,000 extra values"),
    ("bomb_in_grid.yaml", _bomb() + GRID.replace("fixed", "grid: {depth: *a8}\nfixed"), "YAML aliases"),
    ("cycle.yaml", "x: &a [*a]\n", "a YAML alias inside its own anchor"),
    ("deep.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 64 levels deep"),
    ("deep2.yaml", "a: " + "[" * 100 + "]" * 100 + "\n", "nested more than 64 levels deep"),
    ("deep.json", '{"a": ' + "[" * 100000 + "]" * 100000 + "}", "nested more than 64 levels deep"),
    ("seed.yaml", GRID + f"seeds: [{2**63}]\n", "seeds must be a non-empty list of integers in 0..9223372036854775807"),
    ("ldiseed.yaml", GRID + f"ldi: {{seed: {2**63}}}\n", "ldi.seed must be an integer in 0..9223372036854775807"),
    ("ldibatch.yaml", GRID + "ldi: {batch: 100000000}\n", "ldi.batch must be an integer in 1..65536"),
    ("width.yaml", GRID.replace("width: 4", "width: 100000"), "width must be an integer in 1..65536"),
    ("lenient.yaml", GRID + "grid: {depth: ['1_6']}\n", "--set depth='1_6': must be an integer >= 2"),
    ("many.yaml", GRID + f"grid: {{depth: {list(range(1, 400))}, tc: {list(range(400))}}}\n",
     "crosses to 159,600 trials, over the 100,000"),
    ("echo.yaml", GRID + "grid: {depth: ['" + "x" * 100000 + "']}\n", "must be an integer >= 2"),
    ("badlist.yaml", GRID + "grid: {depth: " + "x" * 100000 + "}\n", "must be a non-empty list of values"),
    ("hugelr.yaml", GRID + "grid: {train.lr: [1.0e+39]}\n",
     "training settings lr=1e+39: lr must be a number > 0 and <= 1e+37, got 1e+39"),
]


@pytest.mark.parametrize("name,text,needle", GRIDS, ids=[g[0] for g in GRIDS])
def test_hostile_grid_files_stop_before_a_store_exists(capsys, tmp_path, name, text, needle):
    grid = tmp_path / name
    grid.write_text(text)
    store = tmp_path / "s.sqlite"
    start = time.perf_counter()
    refused(capsys, ["sweep", grid, "--store", store, "--no-progress"], needle)
    assert time.perf_counter() - start < 20
    assert not store.exists()


RANGE_FILES = [
    ("bomb.yaml", _bomb(), "range file", "uses YAML aliases"),
    ("deep.json", '{"depth": ' + "[" * 3000 + "]" * 3000 + "}", "range file", "nested more than 64 levels"),
    ("lenient.yaml", "depth: '1_6'\n", "--range depth", "expected an integer, got '1_6'"),
    ("huge.yaml", "depth: 1:100000000\n", "--range depth", "out of range"),
]


@pytest.mark.parametrize("name,text,where,needle", RANGE_FILES, ids=[r[0] for r in RANGE_FILES])
def test_hostile_range_files(capsys, tmp_path, name, text, where, needle):
    path = tmp_path / name
    path.write_text(text)
    line = refused(capsys, ["design", "dense-mlp", "--range-file", path, "--max-params", "20k"], needle)
    assert where in line


NOT_TEXT = [
    (["sweep", "{file}", "--store", "{tmp}/s.sqlite"], ".yaml", "grid file"),
    (["mass", "{file}"], ".json", "spec file"),
    (["design", "dense-mlp", "--range-file", "{file}"], ".yaml", "range file"),
    (["rank", "{file}", "--arch-column", "a", "--target", "b", "--store", "{tmp}/s.sqlite"], ".csv", "table"),
]


@pytest.mark.parametrize("argv,suffix,what", NOT_TEXT, ids=[a[0] for a, _, _ in NOT_TEXT])
def test_binary_and_endless_files(capsys, tmp_path, argv, suffix, what):
    binary = tmp_path / f"binary{suffix}"
    binary.write_bytes(bytes(range(128, 256)) * 8)
    fill = lambda file: [a.replace("{file}", str(file)).replace("{tmp}", str(tmp_path)) for a in argv]
    refused(capsys, fill(binary), f"{what} '{binary}' is not UTF-8 text")
    if argv[0] != "mass" and os.path.exists("/dev/zero"):  # endless: read up to the bound, then refused
        refused(capsys, fill("/dev/zero"), f"{what} '/dev/zero' is over {64 if what == 'table' else 16} MiB")
    assert not (tmp_path / "s.sqlite").exists()


def test_deeply_nested_spec_file(capsys, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text('{"family": ' + "[" * 100000 + "]" * 100000 + "}")
    refused(capsys, ["mass", spec], "nested too deeply")


FACTORIES = [
    ("import sys\nsys.exit(0)\n", "called sys.exit(0) while being imported"),
    ("import sys, torch\ndef make():\n    sys.exit(3)\n", "make() called sys.exit(3) instead of returning a model"),
    ("import torch\nINPUT_SHAPE = 'garbage'\ndef make():\n    return torch.nn.Linear(3, 2)\n",
     "INPUT_SHAPE of"),
    ("import torch\nINPUT_SHAPE = (1, 3, 100000, 100000)\ndef make():\n    return torch.nn.Linear(3, 2)\n",
     "is 30,000,000,000 numbers"),
    ("import torch\ndef make():\n    raise ValueError('x' * 100000)\n", "make() failed: ValueError"),
]


@pytest.mark.parametrize("source,needle", FACTORIES, ids=["exit-on-import", "exit-in-factory", "shape-garbage",
                                                           "shape-huge", "huge-error"])
def test_hostile_factory_files(capsys, tmp_path, source, needle):
    path = tmp_path / "factory.py"
    path.write_text(source)
    refused(capsys, ["mass", f"{path}:make"], needle)


def test_version():
    out = subprocess.run([sys.executable, "-m", "nnmass", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout == "nnmass 0.1.0\n" and out.stderr == ""


def test_ctrl_c_is_exit_130_with_one_line(capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr("nnmass.cli.zoo.run", interrupted)
    assert main(["zoo"]) == 130
    assert capsys.readouterr().err == "nnmass: interrupted\n"


def test_negative_values_still_reach_options_that_take_them(capsys):
    # --max-params=-3M and --max-params -3M read the same; a flag is never given a value.
    refused(capsys, ["design", "dense-mlp", "--json", "-3"], "ignored explicit argument '-3'")


# ---- processes ------------------------------------------------------------------------------

LONG_GRID = ("name: orphans\nmodel: dense-mlp\ndataset: digits\nepochs: 50\nfixed: {width: 8}\n"
             "grid: {depth: [4, 8], tc: [0, 6]}\nseeds: [0, 1]\n")


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid``, from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie waits for init, which may not reap it here)."""
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_workers_exit_when_the_sweep_is_killed(tmp_path):
    """kill -9 of the main process only (as the OOM killer does): its 2 workers and
    multiprocessing's resource tracker must be gone within seconds."""
    grid = tmp_path / "g.yaml"
    grid.write_text(LONG_GRID)
    proc = subprocess.Popen([sys.executable, "-m", "nnmass", "sweep", str(grid), "--store", str(tmp_path / "s.sqlite"),
                             "--workers", "2", "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    kids = []
    try:
        deadline = time.monotonic() + 120
        while len(kids) < 3:  # 2 workers and the resource tracker
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.1)
            kids = _children(proc.pid)
        time.sleep(3)  # let the workers import torch and start training
        kids = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while any(_running(k) for k in kids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [k for k in kids if _running(k)], "orphaned workers kept running"
    finally:
        for k in kids:
            if _running(k):
                os.kill(k, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
