"""macs in closed form on the additive spaces: the same number the macs proxy counts on
each scored network, from at most 1 + edges x ops counted networks a setting."""
import numpy as np
import pytest

from nnmass.proxies import macs
from nnmass.rank.closed_form import closed_form_scores
from nnmass.rank.scoring import ScoreSetting, build_network, canonical_network, make_batch, score_network
from nnmass.spaces import get_space
from nnmass.spaces.additive import ADDITIVE, AdditiveCount, most_networks


def counted_by_the_proxy(network, setting):
    model, shape = build_network(network, setting)
    return macs(model, make_batch(model, shape, setting))


def closed_forms(cache):
    return [v for v in cache.values() if isinstance(v, AdditiveCount)]


@pytest.mark.parametrize("dataset", ["cifar10", "ImageNet16-120"])
def test_nb201_macs_equal_the_proxy_on_each_network(dataset):
    space, setting, cache = get_space("nb201"), ScoreSetting.nb201(dataset), {}
    rng = np.random.default_rng(11)
    archs = [space.format(space.sample(rng)) for _ in range(most_networks(space) + 15)]
    archs[-1] = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    for i, text in enumerate(archs):  # canonical networks, and strings as written (dead modules kept)
        network = canonical_network(text, "nb201", canonical=i % 2 == 0)
        scored = score_network(network, ["macs"], setting, cache=cache)
        assert scored.error is None
        assert scored.scores["macs"] == counted_by_the_proxy(network, setting) > 0
        assert len(closed_forms(cache)) == (i >= most_networks(space))  # the first 25 are counted on the network
    assert closed_forms(cache)[0].networks_counted <= most_networks(space) == 1 + 6 * 4


def test_transnas_micro_macs_equal_the_proxy_with_a_head_and_sets():
    space = get_space("tnb-micro")
    setting, cache = ScoreSetting.for_space("tnb-micro", "class_object", batch=2, sets={"channels": "8"}), {}
    rng = np.random.default_rng(3)
    for _ in range(most_networks(space) + 3):
        network = canonical_network(space.format(space.sample(rng)), "tnb-micro")
        scored = score_network(network, ["params", "macs"], setting, cache=cache)
        assert scored.error is None and list(scored.scores) == ["params", "macs"]
        assert scored.scores["macs"] == counted_by_the_proxy(network, setting)
    assert len(closed_forms(cache)) == 1 and most_networks(space) == 1 + 6 * 3


def test_the_table_of_additive_spaces_matches_their_ops():
    from nnmass.spaces.transnas_micro import OPS as MICRO_OPS
    from nnmass.spec.nb201 import EDGES, OPS

    assert ADDITIVE["nb201"] == ("none", len(EDGES), len(OPS))
    assert ADDITIVE["tnb-micro"] == (MICRO_OPS.index("none"), 6, len(MICRO_OPS))
    assert len(get_space("tnb-micro").sample(np.random.default_rng(0))) == 6


def test_every_other_proxy_is_still_scored_on_the_network():
    setting = ScoreSetting.nb201("cifar10", batch=4)
    network = canonical_network("|nor_conv_1x1~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|none~2|",
                                "nb201")
    names = ["synflow", "macs", "params"]
    scored = score_network(network, names, setting, cache={})
    model, shape = build_network(network, setting)
    assert list(scored.scores) == names and list(scored.seconds) == names
    assert scored.scores["params"] == sum(p.numel() for p in model.parameters())
    assert scored.scores["macs"] == counted_by_the_proxy(network, setting)
    assert all(s >= 0 for s in scored.seconds.values())


def test_spaces_without_a_closed_form_count_on_the_network():
    def never(text):
        raise AssertionError("nothing is counted here")

    for setting in (ScoreSetting.for_space("nb101"), ScoreSetting.for_space("tnb-macro"),
                    ScoreSetting(space="model", num_classes=None, input_shape=None)):
        assert closed_form_scores("any", ["macs", "params"], setting, {}, never) == ({}, {})
    assert closed_form_scores("any", ["params"], ScoreSetting.nb201(), {}, never) == ({}, {})


def test_additive_count_counts_each_term_once():
    counted = []

    def count(arch):
        counted.append(arch)
        return (sum({"none": 0, "a": 3, "b": 5}[op] * (edge + 1) for edge, op in enumerate(arch)) + 7,)

    total = AdditiveCount(get_space("nb201"), count)
    rng = np.random.default_rng(0)
    for _ in range(50):
        arch = tuple(rng.choice(["none", "a", "b"], size=6))
        assert total(arch) == count(arch)
        counted.pop()  # the check's own count
    assert total.networks_counted == len(set(counted)) <= 1 + 6 * 2
    with pytest.raises(ValueError, match="no additive counts"):
        AdditiveCount(get_space("nb101"), count)
