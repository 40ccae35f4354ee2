"""The DARTS space's canonical key: one key per genotype up to the order of a node's two
pairs and the numbering of each cell's intermediate nodes, checked against a brute force
written out here; the canonical network's size, cost and function."""
import itertools

import numpy as np
import torch

from nnmass import proxies
from nnmass.errors import UsageError
from nnmass.models.space_networks import build_in_space
from nnmass.proxies.batch import gaussian_batch
from nnmass.spaces.darts import GENOTYPE_FORM, SPACE, check_cell
from nnmass.spaces.samples import load_naslib_sample

from darts_cells import DARTS_V2

SMALL = {"C": "4", "layers": "4"}  # reduction cells at 1 and 2: every kind of cell after every other


def is_cell(pairs) -> bool:
    """Whether 8 pairs are a cell of the space, as the parser judges it."""
    try:
        check_cell(list(pairs), "normal", "", GENOTYPE_FORM, False)
        return True
    except UsageError:
        return False


def relabellings(cell, rng=None):
    """Every valid renumbering of a cell's nodes 2-5: ``(cell, new)``, ``new[old]`` the new
    number of each state. Node ids are permuted, every input remapped, the nodes put back
    in order of their new ids; with ``rng``, a node's two pairs are also shuffled."""
    out = []
    for image in itertools.permutations((2, 3, 4, 5)):
        new = dict(zip((0, 1, 2, 3, 4, 5), (0, 1) + image))
        nodes = {new[2 + k]: [(op, new[source]) for op, source in cell[2 * k:2 * k + 2]] for k in range(4)}
        pairs = []
        for node in sorted(nodes):
            two = nodes[node]
            pairs += two[::-1] if rng is not None and rng.random() < 0.5 else two
        if is_cell(pairs):
            out.append((tuple(pairs), new))
    return out


def orbit(cell) -> frozenset:
    """Every relabelling of a cell, each node's pairs as a set: a class of equivalent cells."""
    return frozenset(tuple(frozenset(c[2 * k:2 * k + 2]) for k in range(4)) for c, _ in relabellings(cell))


def sorted_pairs(cell):
    return tuple(p for k in range(4) for p in sorted(cell[2 * k:2 * k + 2]))


def genotypes(count, seed):
    rng = np.random.default_rng(seed)
    return [DARTS_V2] + [SPACE.sample(rng) for _ in range(count)]


def test_relabellings_count_the_orders_a_cell_allows():
    # Nodes that read only the cell's inputs may come in any order; a chain in one.
    free = (("sep_conv_3x3", 0), ("skip_connect", 1)) * 4
    chain = (("sep_conv_3x3", 0), ("skip_connect", 1), ("sep_conv_3x3", 2), ("skip_connect", 1),
             ("sep_conv_3x3", 3), ("skip_connect", 1), ("sep_conv_3x3", 4), ("skip_connect", 1))
    assert len(relabellings(free)) == 24 and len(relabellings(chain)) == 1
    # Nodes 3 and 4 read node 2, node 5 reads node 4: 2 before 3 and 4, 4 before 5.
    fork = (("max_pool_3x3", 0), ("avg_pool_3x3", 1), ("sep_conv_3x3", 2), ("sep_conv_5x5", 0),
            ("dil_conv_3x3", 2), ("dil_conv_5x5", 1), ("skip_connect", 4), ("max_pool_3x3", 0))
    assert len(relabellings(fork)) == 3  # 2 3 4 5, 2 4 3 5, 2 4 5 3


def test_a_key_worked_by_hand():
    # Nodes 2 and 3 read only the inputs, node 4 reads both, node 5 reads node 4: the
    # orders 2 3 4 5 and 3 2 4 5. Swapped, node 2 starts with avg_pool_3x3, which sorts
    # before sep_conv_3x3 (the first pair of node 2 as written, once sorted): the swap wins,
    # and node 4's inputs 2 and 3 trade numbers.
    cell = (("skip_connect", 0), ("sep_conv_3x3", 1), ("max_pool_3x3", 1), ("avg_pool_3x3", 0),
            ("skip_connect", 3), ("dil_conv_3x3", 2), ("sep_conv_5x5", 4), ("max_pool_3x3", 0))
    by_hand = ("[('avg_pool_3x3', 0), ('max_pool_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), "
               "('dil_conv_3x3', 3), ('skip_connect', 2), ('max_pool_3x3', 0), ('sep_conv_5x5', 4)]")
    assert len(relabellings(cell)) == 2
    key = SPACE.canonical_key((cell, DARTS_V2[1]))
    assert key.startswith(f"Genotype(normal={by_hand}, normal_concat=[2, 3, 4, 5], reduce=")


def test_every_relabelling_of_a_genotype_has_its_key():
    rng = np.random.default_rng(22)
    for arch in genotypes(40, 1):
        key = SPACE.canonical_key(arch)
        normals, reduces = relabellings(arch[0], rng), relabellings(arch[1], rng)
        variants = {(n, reduces[int(rng.integers(len(reduces)))][0]) for n, _ in normals}
        variants |= {(normals[int(rng.integers(len(normals)))][0], r) for r, _ in reduces}
        assert {SPACE.canonical_key(v) for v in variants} == {key}, SPACE.format(arch)
    free = (("sep_conv_3x3", 0), ("skip_connect", 1), ("avg_pool_3x3", 0), ("dil_conv_5x5", 1),
            ("max_pool_3x3", 1), ("skip_connect", 0), ("sep_conv_5x5", 0), ("sep_conv_3x3", 1))
    variants = [(n, DARTS_V2[1]) for n, _ in relabellings(free, rng)]
    assert len({SPACE.format(v) for v in variants}) == 24
    assert len({SPACE.canonical_key(v) for v in variants}) == 1


def test_keys_differ_exactly_between_genotypes_that_are_no_relabelling_of_each_other():
    rng = np.random.default_rng(7)
    archs = genotypes(30, 2)
    for arch in archs:
        key = SPACE.canonical_key(arch)
        # An op replaced: the cell's ops, which a renumbering keeps, differ.
        cell = list(arch[0])
        op, source = cell[3]
        cell[3] = ("avg_pool_3x3" if op != "avg_pool_3x3" else "max_pool_3x3", source)
        assert SPACE.canonical_key((tuple(cell), arch[1])) != key
        assert (SPACE.canonical_key((arch[1], arch[0])) == key) == (orbit(arch[0]) == orbit(arch[1]))
        for _ in range(5):
            other = SPACE.mutate(arch, rng)
            same = orbit(other[0]) == orbit(arch[0]) and orbit(other[1]) == orbit(arch[1])
            assert (SPACE.canonical_key(other) == key) == same
    # Pairs of unrelated draws, judged by their classes.
    for a, b in itertools.combinations(archs[:12], 2):
        same = orbit(a[0]) == orbit(b[0]) and orbit(a[1]) == orbit(b[1])
        assert (SPACE.canonical_key(a) == SPACE.canonical_key(b)) == same


def test_the_key_is_a_genotype_of_the_space_and_its_own_key():
    for arch in genotypes(40, 3):
        key = SPACE.canonical_key(arch)
        canonical = SPACE.parse(key)
        assert SPACE.format(canonical) == key and SPACE.canonical_key(canonical) == key
        assert orbit(canonical[0]) == orbit(arch[0]) and orbit(canonical[1]) == orbit(arch[1])
        # The smallest of the relabellings with sorted pairs, cell by cell.
        for cell, mine in zip(arch, canonical):
            assert mine == min(sorted_pairs(c) for c, _ in relabellings(cell))


def test_the_order_of_cells_is_the_order_of_their_text():
    cells = [c for arch in genotypes(60, 6) for c in arch]
    # The stored text of a genotype with this cell as both cells starts with the cell's text.
    assert sorted(cells) == sorted(cells, key=lambda c: SPACE.format((c, c))) != cells


def macs_of(model) -> float:
    return proxies.macs(model, gaussian_batch((3, 32, 32), batch_size=2))


def test_the_canonical_network_has_the_same_params_and_macs():
    archs = genotypes(4, 4)
    rows = load_naslib_sample("nb301")
    archs += [SPACE.parse(rows[i]["arch"]) for i in (0, 361, 724)]
    renumbered = 0
    for arch in archs:
        canonical = SPACE.parse(SPACE.canonical_key(arch))
        renumbered += canonical != tuple(sorted_pairs(c) for c in arch)
        original, network = build_in_space(SPACE, arch, None, SMALL), build_in_space(SPACE, canonical, None, SMALL)
        assert sum(p.numel() for p in network.parameters()) == sum(p.numel() for p in original.parameters())
        assert macs_of(network) == macs_of(original) > 0
    assert renumbered >= 2  # not only genotypes whose nodes kept their numbers


def _mapping(cell, canonical):
    """A renumbering that turns ``cell`` into ``canonical``: where each of its pairs goes, and
    which old node each new node 2-5 is."""
    for pairs, new in relabellings(cell):
        if sorted_pairs(pairs) == canonical:
            where = [canonical.index((op, new[s]), 2 * (new[2 + i // 2] - 2)) for i, (op, s) in enumerate(cell)]
            return where, [old for _, old in sorted((n, o) for o, n in new.items() if o >= 2)]
    raise AssertionError("the canonical cell is no relabelling")


def _permute_inputs(module, order):
    for conv in (m for m in module.modules() if isinstance(m, torch.nn.Conv2d)):
        conv.weight.data = conv.weight.data[:, order]


def test_the_canonical_network_computes_the_same_function_up_to_channel_order():
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    renumbered = 0
    for arch in genotypes(3, 5):
        canonical = SPACE.parse(SPACE.canonical_key(arch))
        torch.manual_seed(0)  # weights of both networks from torch's global generator; all copied below
        original, network = build_in_space(SPACE, arch, None, SMALL), build_in_space(SPACE, canonical, None, SMALL)
        maps = [_mapping(cell, mine) for cell, mine in zip(arch, canonical)]
        network.stem.load_state_dict(original.stem.state_dict())
        stem_channels = original.stem.conv.out_channels
        outputs = [torch.arange(stem_channels)] * 2  # channel order of the last two states, as the copy reads them
        for i, (mine, theirs) in enumerate(zip(network.cells, original.cells)):
            where, olds = maps[1] if i in (1, 2) else maps[0]  # SMALL's reduction cells
            for k, j in enumerate(where):
                mine.ops[j].load_state_dict(theirs.ops[k].state_dict())
            for name in ("preprocess0", "preprocess1"):
                getattr(mine, name).load_state_dict(getattr(theirs, name).state_dict())
            _permute_inputs(mine.preprocess0, outputs[0])
            _permute_inputs(mine.preprocess1, outputs[1])
            c = theirs.preprocess1.bn.num_features
            order = torch.cat([torch.arange((old - 2) * c, (old - 1) * c) for old in olds])
            outputs = [outputs[1], order]
        network.classifier.load_state_dict(original.classifier.state_dict())
        network.classifier.weight.data = network.classifier.weight.data[:, outputs[1]]
        with torch.no_grad():
            assert torch.allclose(network(x), original(x), rtol=1e-4, atol=1e-4)
        renumbered += any(olds != [2, 3, 4, 5] for _, olds in maps)
    assert renumbered >= 2  # channel blocks were really permuted


def test_nb301_sample_distinct_keys_match_the_brute_force_classes():
    archs = [SPACE.parse(r["arch"]) for r in load_naslib_sample("nb301")]
    pairs_sorted = {tuple(sorted_pairs(c) for c in a) for a in archs}
    classes = [(orbit(a[0]), orbit(a[1])) for a in archs]
    keys = [SPACE.canonical_key(a) for a in archs]
    print(f"nb301 sample: {len(archs)} genotypes, {len(pairs_sorted)} with pairs sorted, {len(set(keys))} keys")
    # One key per class and one class per key.
    assert len(set(keys)) == len(set(classes)) == len(set(zip(keys, classes)))
    assert len(set(keys)) <= len(pairs_sorted) <= len(archs)
