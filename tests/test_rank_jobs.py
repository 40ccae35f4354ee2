"""``score_jobs``: several settings' networks scored in one pass of one worker pool, each
score stored under its own setting exactly as separate ``score_networks`` calls store it,
one summary per job."""
import math
import sqlite3

import pytest

from nnmass.rank.runner import ScoringJob, score_jobs, score_networks
from nnmass.rank.scoring import ScoreSetting
from nnmass.rank.store import ScoreStore
from nnmass.spaces import get_space

NB201 = get_space("nb201")
ARCHS = ["|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|nor_conv_3x3~1|nor_conv_3x3~2|",
         "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|skip_connect~1|nor_conv_1x1~2|",
         "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|"]
NAMES = ["params", "synflow", "nn_mass"]


def _networks():
    return [NB201.canonical_key(NB201.parse(a)) for a in ARCHS]


def _stored(path):
    with sqlite3.connect(path) as db:
        return {(n, s, p): (v, e) for n, s, p, v, e in
                db.execute("SELECT network, setting, proxy, value, error FROM scores")}


def _seconds(path, setting):
    with sqlite3.connect(path) as db:
        return db.execute("SELECT SUM(seconds) FROM scores WHERE setting = ?", (setting.key(),)).fetchone()[0]


@pytest.mark.parametrize("workers", [1, 2])
def test_one_pass_over_two_settings_stores_what_separate_calls_store(tmp_path, workers):
    networks = _networks()
    c10, c100 = ScoreSetting.nb201("cifar10", batch=2), ScoreSetting.nb201("cifar100", batch=2)
    with ScoreStore(tmp_path / "apart.sqlite") as store:
        score_networks(networks, NAMES, c10, store, progress=False)
        score_networks(networks[1:], NAMES, c100, store, progress=False)
    with ScoreStore(tmp_path / "pass.sqlite") as store:
        score_networks(networks[:1], NAMES, c10, store, progress=False)  # one already stored
        first, second = score_jobs([ScoringJob(networks, NAMES, c10), ScoringJob(networks[1:], NAMES, c100)],
                                   store, workers=workers, progress=False)
    apart, together = _stored(tmp_path / "apart.sqlite"), _stored(tmp_path / "pass.sqlite")
    assert len(together) == 5 * len(NAMES) and set(apart) == set(together)
    for key, (value, error) in apart.items():
        assert error is None and together[key][1] is None
        assert together[key][0] == value or (math.isnan(value) and math.isnan(together[key][0])), key
    assert (first.networks, first.reused, first.scored, first.failed) == (3, 1, 2, 0)
    assert (second.networks, second.reused, second.scored, second.failed) == (2, 0, 2, 0)
    assert first.seconds == second.seconds  # the pass's wall time
    # Each job's scoring seconds are those its networks stored now (the one stored before excluded).
    with sqlite3.connect(tmp_path / "pass.sqlite") as db:
        earlier = db.execute("SELECT SUM(seconds) FROM scores WHERE setting = ? AND network = ?",
                             (c10.key(), networks[0])).fetchone()[0]
    assert first.scoring_seconds == pytest.approx(_seconds(tmp_path / "pass.sqlite", c10) - earlier)
    assert second.scoring_seconds == pytest.approx(_seconds(tmp_path / "pass.sqlite", c100))


def test_a_network_two_jobs_share_under_one_setting_is_scored_once(tmp_path):
    networks = _networks()
    setting = ScoreSetting.nb201("cifar10", batch=2)
    with ScoreStore(tmp_path / "s.sqlite") as store:
        first, second = score_jobs([ScoringJob(networks[:2], NAMES, setting),
                                    ScoringJob(networks[1:], NAMES, setting)], store, progress=False)
    assert (first.scored, second.scored) == (2, 1) and second.reused == 1
    assert len(_stored(tmp_path / "s.sqlite")) == 3 * len(NAMES)


def test_nothing_to_score_gives_every_job_its_reuse(tmp_path):
    networks = _networks()
    setting = ScoreSetting.nb201("cifar10", batch=2)
    with ScoreStore(tmp_path / "s.sqlite") as store:
        score_networks(networks, NAMES, setting, store, progress=False)
        (summary,) = score_jobs([ScoringJob(networks, NAMES[:2], setting)], store, progress=False)
    assert (summary.networks, summary.reused, summary.scored, summary.scoring_seconds) == (3, 3, 0, 0.0)
