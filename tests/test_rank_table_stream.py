"""``read_table`` streams the CSV and keeps a few bytes a row: it gives what reading
every row first gave (checked against that reader, written out here), tells problems
in the same order, and a table of the whole NB201 space costs little memory."""
import csv
import tracemalloc

import numpy as np
import pytest

from nnmass.errors import UsageError
from nnmass.rank.scoring import canonical_network
from nnmass.rank.table import read_table
from nnmass.spaces import get_space
from nnmass.spaces.nb201_full import load_nb201_full, nb201_full_path
from nnmass.validate import parse_number

NB201 = get_space("nb201")


def read_everything(path, arch_column, target, dataset=None, canonical=True):
    """The reference: every row read into memory, filtered, parsed, then repeats folded
    into their first row with the mean of their targets (conflicts="mean")."""
    with open(path, newline="", encoding="utf-8") as f:
        text = f.read().removeprefix("\ufeff")
    rows = list(csv.DictReader(text.splitlines()))
    if dataset is not None and rows and "dataset" in rows[0]:
        rows = [r for r in rows if r["dataset"] == dataset]
    first, networks, seen = {}, [], []
    for r in rows:
        written = NB201.format(NB201.parse(r[arch_column]))
        value = parse_number(r[target], "t")
        if written not in first:
            first[written] = len(networks)
            networks.append(NB201.canonical_key(NB201.parse(written)) if canonical else written)
            seen.append([])
        seen[first[written]].append(value)
    return networks, [sum(s) / len(s) for s in seen], len(rows) - len(networks)


def write_rows(path, header, rows, newline="\n", bom=False):
    text = newline.join(",".join(map(str, r)) for r in [header, *rows]) + newline
    path.write_bytes((("\ufeff" if bom else "") + text).encode())
    return path


@pytest.mark.parametrize("seed", range(4))
def test_streamed_table_equals_reading_every_row_first(tmp_path, seed):
    gen = np.random.Generator(np.random.PCG64(seed))
    archs = [r["arch"] for r in load_nb201_full("cifar10")]
    pool = [archs[i] for i in gen.choice(len(archs), 40, replace=False)]
    rows = []
    for _ in range(300):  # repeats of one architecture, written in its other forms too, on two datasets
        arch = pool[gen.integers(len(pool))]
        written = arch if gen.random() < 0.7 else f" {NB201.format(NB201.parse(arch))} "
        rows.append([["cifar10", "cifar100"][gen.integers(2)], f'"{written}"', round(float(gen.uniform(0, 100)), 3)])
    newline, bom = ["\n", "\r\n", "\r", "\n"][seed], seed % 2 == 1
    path = write_rows(tmp_path / "t.csv", ["dataset", "arch", "acc"], rows, newline, bom)
    for canonical in (True, False):
        for dataset in ("cifar10", "cifar100"):
            table = read_table(path, "arch", "acc", space="nb201", dataset=dataset, canonical=canonical,
                               conflicts="mean")
            networks, targets, duplicates = read_everything(path, "arch", "acc", dataset, canonical)
            assert table.networks == networks and table.target.tolist() == targets
            assert table.duplicates == duplicates > 0 and table.dataset == dataset and table.rows == []
            # rows of one network share one string: the table holds each network once
            assert len({id(n) for n in table.networks}) == len(set(networks))


def test_blank_lines_are_no_rows_and_lines_count_rows(tmp_path):
    a, b = load_nb201_full("cifar10")[5]["arch"], load_nb201_full("cifar10")[9]["arch"]
    path = tmp_path / "t.csv"
    path.write_text(f"arch,acc\n\n{a},1\n\n{b},2\n{a},3\n")
    # rows are numbered as a reader by column name numbers them: the header is line 1, blank lines skipped
    with pytest.raises(UsageError, match=r"twice with different targets: 1 \(line 2\) and 3 \(line 4\)"):
        read_table(path, "arch", "acc", space="nb201")
    table = read_table(path, "arch", "acc", space="nb201", conflicts="mean", canonical=False)
    assert table.networks == [NB201.format(NB201.parse(a)), NB201.format(NB201.parse(b))]
    assert table.target.tolist() == [2.0, 2.0] and table.duplicates == 1


def test_problems_are_told_in_the_order_of_reading_every_row_first(tmp_path, monkeypatch):
    a, b = (r["arch"] for r in load_nb201_full("cifar10")[:2])
    header = ["dataset", "arch", "acc"]
    # a bad value early, then a second dataset: the datasets come first
    path = write_rows(tmp_path / "m.csv", header, [["cifar10", a, "x"], ["cifar100", b, "2"]])
    with pytest.raises(UsageError, match="mixes datasets cifar10, cifar100"):
        read_table(path, "arch", "acc", space="nb201")
    # a conflict early, then a bad value: the bad value first
    path = write_rows(tmp_path / "c.csv", ["arch", "acc"], [[a, 1], [a, 2], [b, "n/a"]])
    with pytest.raises(UsageError, match="line 4, column 'acc' must be a number, got 'n/a'"):
        read_table(path, "arch", "acc", space="nb201")
    # a bad value, then a row of another length: the length first
    path = write_rows(tmp_path / "l.csv", ["arch", "acc"], [[a, "x"], [b, 1, 9]])
    with pytest.raises(UsageError, match="line 3: 2 columns expected"):
        read_table(path, "arch", "acc", space="nb201")
    # a row of another length, then bytes that are not UTF-8: the file first
    path = tmp_path / "u.csv"
    path.write_bytes(f"arch,acc\n{a},1,9\n".encode() + b"x" * 200_000 + b"\n\xff\xfe,1\n")
    with pytest.raises(UsageError, match="is not UTF-8 text"):
        read_table(path, "arch", "acc", space="nb201")
    # a missing column in a file over the bound: the size first
    monkeypatch.setattr("nnmass.rank.table.MAX_TABLE_BYTES", 1 << 20)
    path = tmp_path / "big.csv"
    path.write_text("arch,acc\n" + f"{a},1\n" * 40_000)
    assert path.stat().st_size > 1 << 20
    with pytest.raises(UsageError, match="over 1 MiB, too large to be one"):
        read_table(path, "arch", "accuracy", space="nb201")
    with pytest.raises(UsageError, match="no column 'accuracy'"):
        read_table(tmp_path / "c.csv", "arch", "accuracy", space="nb201")


def test_the_whole_nb201_table_costs_a_few_bytes_a_row():
    path = nb201_full_path()
    read_table(path, "arch", "cifar10", space="nb201", dataset="cifar10")  # imports and caches, not counted
    tracemalloc.start()
    try:
        table = read_table(path, "arch", "cifar10", space="nb201", dataset="cifar10")
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rows, networks = len(table), len(set(table.networks))
    assert rows == 15625 and networks == len({id(n) for n in table.networks}) < rows
    strings = sum(len(n) + 49 for n in set(table.networks))  # a str object: its characters and ~49 bytes
    # held: a pointer and a float a row, and each network's string once (rows read into dicts: ~1 KB a row)
    assert held < 16 * rows + 2 * strings + 100_000, (held, rows, strings)
    assert peak < 200 * rows + 2 * strings + 1_000_000, (peak, rows, strings)
    full = load_nb201_full("cifar10")  # every row kept, in file order: no architecture is written twice
    assert table.target.tolist() == [r["val_accuracy"] for r in full]
    assert table.networks == [canonical_network(r["arch"], "nb201") for r in full]
