"""The scoring progress bar: distinct networks done out of the distinct total (those
already stored counted in), and the proxy that takes the largest share of the time."""
import math
import re
import sqlite3

from nnmass.rank.progress import slowest_proxy
from nnmass.spaces import get_space

NB201 = get_space("nb201")


def test_slowest_proxy_names_the_largest_share_of_the_seconds():
    assert slowest_proxy({"grasp": 0.9, "zico": 0.6, "params": 0.5}) == "slowest: grasp 45%"  # 0.9 / 2.0
    assert slowest_proxy({"a": 1.0, "b": 3.0}) == "slowest: b 75%"
    assert slowest_proxy({"a": 2.0, "b": 2.0}) == "slowest: a 50%"  # a tie: the first named
    # Undefined times (nan, a hand-altered None) and zeros are not counted.
    assert slowest_proxy({"a": math.nan, "b": None, "c": 0.0, "d": 1.0}) == "slowest: d 100%"
    assert slowest_proxy({}) == "" and slowest_proxy({"a": 0.0}) == ""


def test_the_bar_counts_distinct_networks_and_names_the_slowest_proxy(tmp_path, capsys):
    from nnmass.rank.runner import score_networks
    from nnmass.rank.scoring import ScoreSetting
    from nnmass.rank.store import ScoreStore

    a = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    b = "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|skip_connect~1|nor_conv_1x1~2|"
    c = "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|"
    d = "|none~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_1x1~2|"
    networks = [NB201.canonical_key(NB201.parse(x)) for x in (a, b, c, d)]
    assert len(set(networks)) == 4
    setting = ScoreSetting.nb201("cifar10", batch=2)
    names = ["params", "synflow", "nn_mass"]
    store_path = tmp_path / "s.sqlite"
    with ScoreStore(store_path) as store:
        score_networks(networks[:1], names, setting, store, progress=False)  # one already stored
        capsys.readouterr()
        summary = score_networks(networks + networks[1:2], names, setting, store, progress=True)
    err = capsys.readouterr().err
    assert summary.networks == 4 and summary.scored == 3
    final = err.replace("\r", "\n").strip().splitlines()[-1]
    assert re.search(r"\b4/4\b", final), final  # the distinct total, the stored one counted as done
    assert re.search(r"\b1/4\b", err)  # it started from the network already stored
    # The postfix is the largest share of the seconds the three networks scored now took.
    with sqlite3.connect(store_path) as db:
        rows = db.execute("SELECT network, proxy, seconds FROM scores WHERE network != ?", (networks[0],)).fetchall()
    assert len(rows) == 9
    totals = {p: sum(s for _, q, s in rows if q == p) for p in names}
    top = max(totals, key=totals.get)
    assert final.endswith(f", slowest: {top} {100 * totals[top] / sum(totals.values()):.0f}%]"), final
    assert re.search(r"\[\d\d:\d\d<\d\d:\d\d", final), final  # elapsed<time left
