"""The search-space registry and the NB201 space: both string forms, enumeration,
sampling and mutation, and the network built for each task."""
import numpy as np
import pytest

from nnmass.errors import UsageError
from nnmass.spaces import get_space, space_names, split_model
from nnmass.spec.nb201 import arch_from_op_indices
from nnmass.models.space_networks import build_in_space

NB201 = get_space("nb201")


def test_both_nb201_forms_name_the_same_architecture():
    arch = NB201.parse("(0, 2, 3, 2, 3, 1)")
    assert NB201.format(arch) == arch_from_op_indices((0, 2, 3, 2, 3, 1))
    assert NB201.parse(NB201.format(arch)) == arch
    assert NB201.naslib_key(arch) == "(0, 2, 3, 2, 3, 1)"


def test_nb201_enumeration_is_every_architecture_once():
    archs = list(NB201.enumerate())
    assert len(archs) == NB201.size() == 5 ** 6
    assert len(set(archs)) == len(archs)
    assert all(NB201.parse(NB201.format(a)) == a for a in archs[::977])


def test_sampling_is_seeded_and_mutation_changes_exactly_one_edge():
    draws = [NB201.sample(np.random.default_rng(7)) for _ in range(2)]
    assert draws[0] == draws[1]
    rng = np.random.default_rng(3)
    for arch in (NB201.sample(rng) for _ in range(50)):
        child = NB201.mutate(arch, rng)
        assert sum(a != b for a, b in zip(arch, child)) == 1


def test_the_task_sets_the_classifier_and_an_unknown_key_is_one_line():
    arch = NB201.parse("(0, 2, 3, 2, 3, 1)")
    model = build_in_space(NB201, arch, "ImageNet16-120")
    assert model.classifier.out_features == 120
    with pytest.raises(UsageError, match="unknown key"):
        build_in_space(NB201, arch, None, {"depth": 3})
    with pytest.raises(UsageError, match="unknown nb201 task"):
        NB201.task("mnist")


def test_registry_names_and_prefixes():
    assert {"nb201", "nb101", "nb301", "darts", "tnb-micro", "tnb-macro"} <= set(space_names())
    assert split_model("torchvision:resnet18") is None
    space, rest = split_model("nb201:(0, 2, 3, 2, 3, 1)")
    assert space is NB201 and rest == "(0, 2, 3, 2, 3, 1)"
    with pytest.raises(UsageError, match="unknown search space"):
        get_space("nb999")


def test_rank_stores_any_form_of_a_space_architecture_under_one_string():
    from nnmass.rank.scoring import ScoreSetting, canonical_network
    arch = arch_from_op_indices((0, 2, 3, 2, 3, 1))
    assert canonical_network("(0, 2, 3, 2, 3, 1)", "nb201", canonical=False) == arch
    assert canonical_network(f"  {arch} ", "nb201", canonical=False) == arch
    assert canonical_network("(0, 2, 3, 2, 3, 1)", "nb201") == canonical_network(arch, "nb201") \
        == NB201.canonical_key(NB201.parse(arch))
    # NB201's setting keeps the key older stores were written under (no task field).
    assert "task" not in ScoreSetting.for_space("nb201", "cifar100").key()
    assert ScoreSetting.for_space("nb201", "ImageNet16-120").input_shape == (3, 16, 16)
