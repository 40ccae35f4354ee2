"""``nnmass space``: a space's size, unique networks and listing."""
import json
import os
import subprocess
import sys
from pathlib import Path

import nnmass.spaces as spaces
from nnmass.cli import main
from nnmass.spec.nb201 import EDGES, OPS

ROOT = Path(__file__).resolve().parents[1]
NB201 = spaces.get_space("nb201")


def run_cli(capsys, *argv):
    code = main(["space", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_nb201_report(capsys):
    code, out, err = run_cli(capsys, "nb201", "--json")
    report = json.loads(out)
    assert code == 0 and err == ""
    assert report["space"] == "nb201"
    assert report["architectures"] == len(OPS) ** len(EDGES) == 15625
    assert report["unique"] == len({NB201.canonical_key(a) for a in NB201.enumerate()})
    assert 1 < report["unique"] < report["architectures"]
    assert report["enumerable"] is True
    assert [t["name"] for t in report["tasks"]] == ["cifar10", "cifar100", "ImageNet16-120"]
    assert report["tasks"][2]["num_classes"] == 120 and report["tasks"][2]["input_shape"] == [3, 16, 16]

    code, out, _ = run_cli(capsys, "nb201", "--json", "--task", "cifar100")
    assert code == 0 and [t["name"] for t in json.loads(out)["tasks"]] == ["cifar100"]

    code, out, _ = run_cli(capsys, "nb201")
    assert code == 0
    assert "architectures: 15,625" in out and f"unique: {report['unique']:,} " in out
    assert "task ImageNet16-120: 120 outputs, input 3x16x16" in out


def test_nb201_list(capsys):
    code, out, err = run_cli(capsys, "nb201", "--list", "--json")
    assert code == 0 and err == ""
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["arch"] for r in rows] == [NB201.format(a) for a in NB201.enumerate()]
    assert all(r["canonical"] == NB201.canonical_key(NB201.parse(r["arch"])) for r in rows)

    code, out, _ = run_cli(capsys, "nb201", "--list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 15625
    assert [line.split("\t") for line in lines] == [[r["arch"], r["canonical"]] for r in rows]


def test_list_into_a_closed_pipe_is_quiet():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # pipefail: the exit status is nnmass's as well as head's
    proc = subprocess.run(["bash", "-c", f"set -o pipefail; '{sys.executable}' -m nnmass space nb201 --list --json "
                           "| head -n 2"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert len(proc.stdout.splitlines()) == 2 and json.loads(proc.stdout.splitlines()[1])["arch"]


def test_a_space_too_large_to_list(capsys):
    code, out, err = run_cli(capsys, "nb101", "--json")
    report = json.loads(out)
    assert code == 0
    assert (report["architectures"], report["unique"], report["enumerable"]) == (423624, 423624, False)
    assert "isomorphism" in report["note"]

    code, out, err = run_cli(capsys, "nb101", "--list")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "too large to list (423,624 architectures)" in err


def test_unavailable_unknown_and_bad_task(capsys, monkeypatch):
    monkeypatch.setitem(spaces.SPACE_MODULES, "nb-missing", "no_such_space_module")
    code, out, err = run_cli(capsys, "nb-missing")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "the nb-missing space is not available" in err

    code, out, err = run_cli(capsys, "nb999")
    assert code == 2 and out == "" and "unknown search space 'nb999'; valid: nb201" in err

    for extra in ((), ("--list",)):
        code, out, err = run_cli(capsys, "nb201", "--task", "cifar1000", *extra)
        assert code == 2 and out == "" and err.count("\n") == 1
        assert "unknown nb201 task 'cifar1000'; valid: cifar10, cifar100, ImageNet16-120" in err
