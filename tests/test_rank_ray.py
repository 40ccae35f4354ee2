"""Scoring on Ray: `rank --executor ray` gives a local run's statistics to the last digit
and stores each score once; claims of another run on the store are honoured; bad
`--ray-address` use is one line on every scoring command."""
import csv
import json
import sqlite3
import threading
import time

import pytest

from nnmass.cli import main
from nnmass.search.strategies import uniform_sample
from nnmass.spaces import get_space
from table_files import write_csv

ray = pytest.importorskip("ray")

NB201 = get_space("nb201")
PROXIES = "params,nn_mass,synflow"


@pytest.fixture(scope="module")
def ray_instance():
    """One local Ray instance of 2 CPUs for the module: each run joins it rather than
    starting its own (which takes seconds)."""
    from nnmass.parallel.ray_tasks import RayCluster, ray_session
    with ray_session(RayCluster(None, 2)):
        yield


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    archs = uniform_sample(NB201, 6, seed=3)
    return write_csv(tmp_path_factory.mktemp("t") / "t.csv",
                     [[NB201.format(a), 50 + (7 * i) % 11] for i, a in enumerate(archs)])


def _rank(capsys, table, store, *extra):
    assert main(["rank", str(table), "--space", "nb201", "--arch-column", "arch", "--target", "acc",
                 "--proxies", PROXIES, "--batch", "2", "--bootstrap", "50", "--store", str(store), "--json",
                 "--no-progress", *extra]) == 0
    return [{k: v for k, v in row.items() if k != "seconds_per_arch"} for row in json.loads(capsys.readouterr().out)]


def _stored(store):
    with sqlite3.connect(store) as db:
        return db.execute("SELECT network, proxy, value FROM scores ORDER BY network, proxy").fetchall()


def test_rank_on_ray_equals_the_local_run_and_stores_each_score_once(tmp_path, capsys, table, ray_instance):
    local = _rank(capsys, table, tmp_path / "local.sqlite")
    on_ray = _rank(capsys, table, tmp_path / "ray.sqlite", "--executor", "ray", "--workers", "2")
    assert on_ray == local  # every statistic, to the last digit
    rows = _stored(tmp_path / "ray.sqlite")
    networks = {NB201.canonical_key(NB201.parse(r["arch"])) for r in csv.DictReader(open(table))}
    assert len(rows) == len(networks) * 3 == len({(n, p) for n, p, _ in rows})  # each score once
    assert {n for n, _, _ in rows} == networks
    assert rows == _stored(tmp_path / "local.sqlite")  # the same values, bit for bit


def test_a_network_another_run_claims_is_left_to_it_on_ray(tmp_path, ray_instance):
    from nnmass.parallel.ray_tasks import RayCluster
    from nnmass.rank.runner import score_networks
    from nnmass.rank.scoring import ScoreSetting, score_network
    from nnmass.rank.store import ScoreStore

    setting = ScoreSetting.nb201("cifar10", batch=2)
    archs = [NB201.canonical_key(a) for a in uniform_sample(NB201, 5, seed=4)]
    networks = list(dict.fromkeys(archs))
    held = networks[0]
    names = ["params", "nn_mass"]
    with ScoreStore(tmp_path / "s.sqlite") as store:
        assert store.claim(held, setting.key(), "another-run", names) == names  # a live claim (this process)
    other = score_network(held, names, setting)  # what the other run will store

    def other_run():  # finishes its network while the Ray run works on the rest
        time.sleep(1.0)
        with ScoreStore(tmp_path / "s.sqlite") as s:
            s.put(held, setting.key(), other.scores, other.seconds, run="another-run")

    thread = threading.Thread(target=other_run)
    thread.start()
    with ScoreStore(tmp_path / "s.sqlite") as store:
        summary = score_networks(networks, names, setting, store, progress=False, ray=RayCluster(None, 2))
    thread.join()
    assert summary.networks == len(networks) and summary.scored == len(networks) - 1 and summary.failed == 0
    rows = _stored(tmp_path / "s.sqlite")
    assert len(rows) == 2 * len(networks) == len({(n, p) for n, p, _ in rows})
    assert {p: v for n, p, v in rows if n == held} == other.scores  # the other run's scores, not rescored
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0  # every claim released


def test_two_settings_in_one_ray_pass_store_what_local_calls_store(tmp_path, ray_instance):
    from nnmass.parallel.ray_tasks import RayCluster
    from nnmass.rank.runner import ScoringJob, score_jobs, score_networks
    from nnmass.rank.scoring import ScoreSetting
    from nnmass.rank.store import ScoreStore

    networks = list(dict.fromkeys(NB201.canonical_key(a) for a in uniform_sample(NB201, 4, seed=5)))
    c10, c100 = ScoreSetting.nb201("cifar10", batch=2), ScoreSetting.nb201("cifar100", batch=2)
    names = ["params", "synflow"]
    with ScoreStore(tmp_path / "local.sqlite") as store:
        for setting in (c10, c100):
            score_networks(networks, names, setting, store, progress=False)
    with ScoreStore(tmp_path / "ray.sqlite") as store:
        summaries = score_jobs([ScoringJob(networks, names, c10), ScoringJob(networks, names, c100)], store,
                               progress=False, ray=RayCluster(None, 2))
    assert [(s.scored, s.failed) for s in summaries] == [(len(networks), 0)] * 2
    with sqlite3.connect(tmp_path / "ray.sqlite") as a, sqlite3.connect(tmp_path / "local.sqlite") as b:
        query = "SELECT network, setting, proxy, value FROM scores ORDER BY network, setting, proxy"
        assert a.execute(query).fetchall() == b.execute(query).fetchall()  # each score once, bit for bit


def _closed_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _commands(table, store):
    return {
        "rank": ["rank", str(table), "--space", "nb201", "--arch-column", "arch", "--target", "acc",
                 "--proxies", "params", "--store", store],
        "search": ["search", "nb201", "--score", "params", "--samples", "3", "--store", store],
        "study": ["study", "nb201-proxies", "--quick", "--store", store],
    }


@pytest.mark.parametrize("command", ["rank", "search", "study"])
def test_ray_address_misuse_is_one_line(tmp_path, capsys, monkeypatch, table, command):
    monkeypatch.setattr(ray, "init", lambda *a, **k: pytest.fail("ray.init called"))
    argv = _commands(table, str(tmp_path / "s.sqlite"))[command]
    port = _closed_port()
    for extra, needle in [
        (["--ray-address", f"127.0.0.1:{port}"], "--ray-address needs --executor ray"),
        (["--executor", "ray", "--ray-address", f"127.0.0.1:{port}"],
         f"cannot reach Ray at '127.0.0.1:{port}': nothing answers on 127.0.0.1:{port}"),
        (["--executor", "ray", "--ray-address", "headnode"],
         "--ray-address must be HOST:PORT, ray://HOST:PORT or auto, got 'headnode'"),
    ]:
        assert main(argv + extra) == 2
        err = capsys.readouterr().err
        assert err.startswith("nnmass: error: ") and needle in err and err.count("\n") == 1, err
    assert not (tmp_path / "s.sqlite").exists()  # refused before any work


def test_a_failed_task_is_one_line_naming_the_remote_exception():
    from nnmass.parallel.ray_tasks import TaskFailed

    class RemoteError(Exception):  # as Ray's RayTaskError: the task's exception in .cause
        def __init__(self, cause):
            super().__init__("ray::_call() (pid=1)\nTraceback (most recent call last):\n  File 'x'\n" + str(cause))
            self.cause = cause

    text = ("failed to import\nTraceback (most recent call last):\n  File 'y', line 1\n"
            "ModuleNotFoundError: No module named 'nnmass'")
    assert str(TaskFailed.of(RuntimeError(text))) == "RuntimeError: ModuleNotFoundError: No module named 'nnmass'"
    assert str(TaskFailed.of(RemoteError(ValueError("bad batch\nof 2")))) == "ValueError: bad batch"
    assert str(TaskFailed.of(RemoteError(KeyError("grasp")))) == "KeyError: 'grasp'"
    assert str(TaskFailed.of(OSError())) == "OSError"


def test_a_retried_task_gives_one_result(tmp_path, ray_instance):
    """A worker that dies is retried by Ray; the driver still sees one result per item,
    so each unit's scores are committed once."""
    from nnmass.parallel.ray_tasks import RayCluster, results_in_ray

    def die_once(item):  # nested: sent by value to the Ray worker
        import os
        marker = os.path.join(item[0], f"tried{item[1]}")
        if item[1] % 2 == 0 and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)  # the worker process dies on the first try
        return item[1] * 10

    items = [(str(tmp_path), i) for i in range(4)]
    results = list(results_in_ray(die_once, items, RayCluster(None, 2), lambda item, e: ("failed", str(e))))
    assert sorted(results) == [0, 10, 20, 30]  # each once, the dead ones retried
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tried0", "tried2"]
