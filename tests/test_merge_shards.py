"""Shards and merges: `rank --shard K/N` then `nnmass merge` gives the statistics of one
unsharded run; conflicting or foreign stores are refused and no input changes."""
import csv
import hashlib
import json
import sqlite3

import pytest

from cli_in_process import run_cli as nnmass
from nnmass.rank.table import shard_of
from nnmass.search.strategies import uniform_sample
from nnmass.spaces import get_space
from table_files import write_csv

NB201 = get_space("nb201")


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    archs = uniform_sample(NB201, 9, seed=2)
    return write_csv(tmp_path_factory.mktemp("t") / "t.csv",
                     [[NB201.format(a), 50 + 3 * i + (i % 4)] for i, a in enumerate(archs)])


def _rank(table, store, *extra):
    res = nnmass("rank", str(table), "--space", "nb201", "--arch-column", "arch", "--target", "acc", "--proxies",
                 "params,nn_mass", "--bootstrap", "50", "--store", str(store), "--json", "--no-progress", *extra)
    assert res.returncode == 0, res.stderr
    return [{k: v for k, v in row.items() if k != "seconds_per_arch"} for row in json.loads(res.stdout)]


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("shards", [2, 3])
def test_merged_shards_give_the_unsharded_statistics(tmp_path, table, shards):
    whole = _rank(table, tmp_path / "whole.sqlite")
    parts = [tmp_path / f"part{k}.sqlite" for k in range(shards)]
    for k, part in enumerate(parts):
        if any(shard_of(n, shards) == k for n in [NB201.format(NB201.parse(r["arch"])) for r in
                                                  csv.DictReader(open(table))]):
            _rank(table, part, "--shard", f"{k}/{shards}")
    parts = [p for p in parts if p.exists()]
    before = [_md5(p) for p in parts]
    merged = nnmass("merge", "--into", str(tmp_path / "all.sqlite"), *map(str, parts), "--json")
    assert merged.returncode == 0, merged.stderr
    assert json.loads(merged.stdout)["scores"] == 9 * 2
    assert [_md5(p) for p in parts] == before  # inputs untouched
    assert _rank(table, tmp_path / "all.sqlite") == whole
    # Merging again changes nothing (every score is already there, once).
    again = json.loads(nnmass("merge", "--into", str(tmp_path / "all.sqlite"), *map(str, parts), "--json").stdout)
    assert again["added"] == 0 and again["scores"] == 18


def test_conflicts_and_bad_inputs_are_refused_in_one_line(tmp_path, table):
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    _rank(table, a)
    _rank(table, b)
    with sqlite3.connect(b) as db:
        db.execute("UPDATE scores SET value = value + 1 WHERE proxy = 'params' AND rowid = "
                   "(SELECT min(rowid) FROM scores WHERE proxy = 'params')")
    out = tmp_path / "out.sqlite"
    for argv, message in ((["--into", str(out), str(a), str(b)], "conflicting scores"),
                          (["--into", str(a), str(a)], "is the output store"),
                          (["--into", str(out), str(a), str(a)], "named twice"),
                          (["--into", str(out), str(table)], "not an nnmass score store")):
        before = [_md5(p) for p in (a, b)]
        res = nnmass("merge", *argv)
        assert res.returncode == 2 and message in res.stderr, res.stderr
        assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
        assert [_md5(p) for p in (a, b)] == before and not out.exists()
    with sqlite3.connect(b) as db:
        db.execute("UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    res = nnmass("merge", "--into", str(out), str(a), str(b))
    assert res.returncode == 2 and "schema version 99" in res.stderr


def test_shard_argument_is_checked(tmp_path, table):
    for bad, message in (("3/3", "--shard's K"), ("x", "K/N"), ("0/0", "--shard's N")):
        res = nnmass("rank", str(table), "--space", "nb201", "--arch-column", "arch", "--target", "acc",
                     "--proxies", "params", "--store", str(tmp_path / "s.sqlite"), "--shard", bad)
        assert res.returncode == 2 and message in res.stderr, res.stderr
