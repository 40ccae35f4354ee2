"""The packaged accuracies of all NB201 architectures (nnmass.spaces.nb201_full)."""
import csv
from pathlib import Path

import pytest

from nnmass.errors import UsageError
from nnmass.spaces import get_space
from nnmass.spaces.nb201_full import COLUMNS, SOURCE_COLUMNS, TASKS, load_nb201_full, nb201_full_path
from nnmass.studies.nb201_data import load_nb201_sample

SPACE = get_space("nb201")
ROOT = Path(__file__).resolve().parents[1]
# The published table, beside the checkout (or beside the folder holding its worktrees).
SHARED = next((p for p in (folder / "shared" / "data" / "nb201-full" / "nb201_val_accuracy.csv"
                           for folder in (ROOT.parent, ROOT.parent.parent)) if p.exists()), ROOT / "absent")


def _by_task():
    rows = load_nb201_full()
    out = {t: {} for t in TASKS}
    for r in rows:
        assert r["arch"] not in out[r["task"]], r
        out[r["task"]][r["arch"]] = r["val_accuracy"]
    return out


def test_every_architecture_once_per_task_in_enumeration_order():
    expected = [SPACE.format(a) for a in SPACE.enumerate()]
    assert len(set(expected)) == 15625
    for task in TASKS:
        rows = load_nb201_full(task)
        assert [r["arch"] for r in rows] == expected
        assert all(r["task"] == task and 0.0 <= r["val_accuracy"] <= 100.0 for r in rows)
        assert all(SPACE.format(SPACE.parse(r["arch"])) == r["arch"] for r in rows)
    assert len(load_nb201_full()) == 3 * 15625


def test_equals_the_725_architecture_sample():
    table = _by_task()
    sample = load_nb201_sample()
    assert {r["dataset"] for r in sample} == set(TASKS)
    assert len(sample) > 2000  # 725 architectures (724 on ImageNet16-120)
    for r in sample:
        assert table[r["dataset"]][SPACE.format(SPACE.parse(r["arch"]))] == r["val_accuracy"], r


@pytest.mark.skipif(not SHARED.exists(), reason="the published table is not beside this checkout")
def test_equals_the_published_table():
    table = _by_task()
    with open(SHARED, newline="") as f:
        published = list(csv.DictReader(f))
    assert len(published) == 15625
    for row in published:
        arch = SPACE.format(SPACE.parse(row["arch"]))
        assert SPACE.format(SPACE.parse(f"({', '.join(row['naslib_op_indices'])})")) == arch
        for task, column in zip(TASKS, SOURCE_COLUMNS):
            assert table[task][arch] == float(row[column]), (arch, task)


def test_the_file_reads_as_a_rank_table_and_refuses_unknown_tasks():
    pytest.importorskip("torch")
    from nnmass.rank.table import read_table

    path = nb201_full_path()
    with open(path, newline="") as f:
        assert tuple(next(csv.reader(f))) == COLUMNS
    values = {r["arch"]: r["val_accuracy"] for r in load_nb201_full("cifar100")}
    table = read_table(path, "arch", "cifar100", space="nb201", dataset="cifar100", canonical=False)
    assert table.dataset == "cifar100" and len(table) == 15625
    assert all(values[n] == v for n, v in zip(table.networks, table.target))
    with pytest.raises(UsageError, match="valid: cifar10, cifar100, ImageNet16-120"):
        load_nb201_full("cifar10_valid")
