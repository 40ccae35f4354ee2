"""Spec validation, JSON round trips, and reproducible skip sampling."""
import json
import subprocess
import sys

import numpy as np
import pytest

from nnmass.errors import UsageError
from nnmass.families import FAMILIES, spec_for
from nnmass.spec import (DenseCNNSpec, DenseMLPSpec, DenseNetSpec, MobileNetV2Spec, ResNetSpec, VGGSpec,
                         spec_from_dict, spec_from_json)
from nnmass.topology import dense_skip_count

BAD = [
    (DenseMLPSpec, dict(width=0), r"width must be an integer in 1\.\.65536, got 0"),
    (DenseMLPSpec, dict(width=-3), r"width must be an integer in 1\.\.65536"),
    (DenseMLPSpec, dict(width=8.5), r"width must be an integer"),
    (DenseMLPSpec, dict(width=True), r"width must be an integer"),
    (DenseMLPSpec, dict(depth=1), r"depth must be an integer >= 2, got 1"),  # input layer + classifier
    (DenseMLPSpec, dict(depth=0, layout="hidden"), r"depth must be an integer >= 1, got 0"),
    (DenseMLPSpec, dict(depth=-1), r"depth must be an integer >= 2"),
    (DenseMLPSpec, dict(layout="flat"), r"layout must be one of official, hidden, got 'flat'"),
    (DenseMLPSpec, dict(tc=-1), r"tc must be an integer >= 0, got -1"),
    (DenseMLPSpec, dict(input_dim=0), r"input_dim must be an integer >= 1"),
    (DenseMLPSpec, dict(seed=-2), r"seed must be an integer in 0..9223372036854775807, got -2"),
    (DenseMLPSpec, dict(activation="swish"), r"activation must be one of relu, .*got 'swish'"),
    (DenseCNNSpec, dict(tc=(1, 2)), r"tc needs 1 or num_cells=3 values, got 2"),
    (DenseCNNSpec, dict(depth=(4, 4, 4, 4)), r"depth needs 1 or num_cells=3 values, got 4"),
    (DenseCNNSpec, dict(depth=(4, 0, 4)), r"depth must be an integer >= 1, got 0"),
    (DenseCNNSpec, dict(tc=(4, -1, 4)), r"tc must be an integer >= 0, got -1"),
    (DenseCNNSpec, dict(wm=0), r"wm must be a number > 0 and <= 64, got 0"),
    (DenseCNNSpec, dict(wm=1e30), r"wm must be a number > 0 and <= 64, got 1e\+30"),
    (DenseCNNSpec, dict(wm=float("nan")), r"wm must be a number > 0"),
    (DenseCNNSpec, dict(num_cells=0), r"num_cells must be an integer in 1..8, got 0"),
    (DenseCNNSpec, dict(conv="dilated"), r"conv must be one of regular, separable"),
    (DenseCNNSpec, dict(input_size=2), r"input_size must be an integer in 4\.\.16384, got 2"),
    (MobileNetV2Spec, dict(width_mult=-1.0), r"width_mult must be a number > 0 and <= 64"),
    (MobileNetV2Spec, dict(width_mult=float("inf")), r"width_mult must be a number > 0 and <= 64"),
    (MobileNetV2Spec, dict(blocks=(1, 2, 3)), r"blocks needs 7 values \(one per stage\), got 3"),
    (MobileNetV2Spec, dict(blocks=(1, 2, 3, 0, 3, 3, 1)), r"blocks must be an integer in 1..64, got 0"),
    (MobileNetV2Spec, dict(input_size=16), r"input_size must be an integer in 32\.\.16384, got 16"),
    (ResNetSpec, dict(layers=(2, 2, 2)), r"layers needs 4 values"),
    (ResNetSpec, dict(width_per_group=128), r"width_per_group must be 64 for basic blocks"),
    (ResNetSpec, dict(block="dense"), r"block must be one of basic, bottleneck"),
    (ResNetSpec, dict(shortcuts="some"), r"shortcuts must be one of identity, all"),
    (DenseNetSpec, dict(block_config=(6, 12)), r"block_config needs 4 values, got 2"),
    (DenseNetSpec, dict(growth_rate=0), r"growth_rate must be an integer in 1\.\.65536"),
    (VGGSpec, dict(config="Z"), r"config must be one of A, B, D, E"),
    (VGGSpec, dict(batch_norm="yes"), r"batch_norm must be true or false"),
]


BAD_IDS = [f"{cls.family}-{next(iter(kw))}-{i}" for i, (cls, kw, _) in enumerate(BAD)]


@pytest.mark.parametrize("cls,kwargs,message", BAD, ids=BAD_IDS)
def test_bad_values_name_problem_and_range(cls, kwargs, message):
    with pytest.raises(UsageError, match=message) as info:
        cls(**kwargs)
    assert "\n" not in str(info.value)


def test_bad_skips_are_refused():
    good = DenseMLPSpec(width=2, depth=4, tc=1, seed=3)
    with pytest.raises(UsageError, match="skip sources for each of the 4 layers"):
        DenseMLPSpec(width=2, depth=4, tc=1, skips=good.skips[:3])
    with pytest.raises(UsageError, match=r"skips\[3\] must hold 1 distinct indices in 0..3"):
        DenseMLPSpec(width=2, depth=4, tc=1, skips=((), (), (0,), (4,)))
    with pytest.raises(UsageError, match=r"skips\[3\] must hold 2 distinct"):
        DenseMLPSpec(width=2, depth=4, tc=2, skips=((), (), (0, 1), (3, 3)))
    # Malformed skips from a hand-written file: refused, never truncated (0.5 -> 0).
    for bad in (5, ((), (), 5, ()), ((), (), ("a",), ()), ((), (), (0.5,), ()), ((), (), (True,), ())):
        with pytest.raises(UsageError, match="skips must be a list .* of lists of integer indices"):
            DenseMLPSpec(width=2, depth=4, tc=1, skips=bad)
    with pytest.raises(UsageError, match=r"skips must hold one list per cell \(3\)"):
        DenseCNNSpec(skips=7)


def test_dict_and_json_errors():
    with pytest.raises(UsageError, match="'family' key"):
        spec_from_dict({"width": 3})
    with pytest.raises(UsageError, match=r"unknown spec family \['x'\]"):
        spec_from_dict({"family": ["x"]})
    with pytest.raises(UsageError, match="unknown spec family 'lstm'; valid: dense-mlp"):
        spec_from_dict({"family": "lstm"})
    with pytest.raises(UsageError, match="unknown key.*colour.*valid: "):
        spec_from_dict({"family": "vgg", "colour": 1})
    with pytest.raises(UsageError, match="malformed spec JSON: .* at line 1 column"):
        spec_from_json('{"family": "vgg",')


@pytest.mark.parametrize("name", list(FAMILIES))
def test_json_round_trip_every_family(name):
    spec = spec_for(name)
    again = spec_from_json(spec.to_json())
    assert again == spec and type(again) is type(spec)
    assert spec_from_dict(json.loads(json.dumps(spec.to_dict()))).to_dict() == spec.to_dict()


def test_json_round_trip_non_defaults():
    for spec in (DenseCNNSpec(num_cells=2, depth=(3, 5), wm=1.5, tc=(7, 0), conv="separable", seed=9),
                 DenseMLPSpec(width=3, depth=6, tc=4, activation="elu", seed=123),
                 MobileNetV2Spec(width_mult=0.35, blocks=(1, 1, 2, 2, 1, 1, 1), expansion=4),
                 ResNetSpec(block="bottleneck", layers=(1, 2, 1, 1), width_per_group=96, shortcuts="all")):
        assert spec_from_json(spec.to_json()) == spec


def check_skip_structure(skips, depth, width, tc):
    """Layer i >= 2 holds min(w(i-1), tc) distinct, sorted indices into layers 0..i-2."""
    assert len(skips) == depth
    for i, layer in enumerate(skips):
        expected = min(width * (i - 1), tc) if i >= 2 else 0
        assert len(layer) == expected and len(set(layer)) == expected
        assert list(layer) == sorted(layer)
        assert all(0 <= c < width * max(i - 1, 0) for c in layer)


def reference_skips(seed, cells):
    """An independent rendering of the sampling rule: per layer, rank w(i-1) raw
    64-bit PCG64 draws and keep the indices of the smallest t_i."""
    bits = np.random.PCG64(seed)
    out = []
    for depth, width, tc in cells:
        layers = [(), ()][:min(depth, 2)]
        for i in range(2, depth):
            raw = [int(v) for v in bits.random_raw(width * (i - 1))]
            order = sorted(range(len(raw)), key=lambda k: (raw[k], k))
            layers.append(tuple(sorted(order[:min(width * (i - 1), tc)])))
        out.append(tuple(layers))
    return out


def test_skips_reproducible_bit_for_bit():
    np.random.seed(1)  # global state must not matter
    a = DenseMLPSpec(width=8, depth=16, tc=10, seed=7)
    np.random.seed(2)
    b = DenseMLPSpec(width=8, depth=16, tc=10, seed=7)
    c = DenseMLPSpec(width=8, depth=16, tc=10, seed=8)
    assert a.skips == b.skips and a.skips != c.skips
    assert a.skips == reference_skips(7, [(16, 8, 10)])[0]
    check_skip_structure(a.skips, 16, 8, 10)
    cnn = DenseCNNSpec(num_cells=2, depth=(5, 4), wm=0.25, tc=(3, 100), seed=11)
    assert cnn.widths == (4, 8)
    assert list(cnn.skips) == reference_skips(11, [(5, 4, 3), (4, 8, 100)])
    for s, d, w, t in zip(cnn.skips, cnn.depth, cnn.widths, cnn.tc):
        check_skip_structure(s, d, w, t)


def test_link_free_cell_moves_the_stream_like_the_draws():
    # tc=0 skips drawing but must leave the stream where the draws would, so the
    # next cell's links are those of the rank rule.
    cnn = DenseCNNSpec(num_cells=3, depth=(6, 5, 4), wm=0.25, tc=(0, 7, 0), seed=3)
    assert list(cnn.skips) == reference_skips(3, [(6, 4, 0), (5, 8, 7), (4, 16, 0)])
    assert DenseMLPSpec(depth=100_000, tc=0).skips == ((),) * 100_000  # instant, no draws


def test_ties_at_the_cut_break_by_index():
    from nnmass.spec.skips import _smallest
    keys = np.array([5, 1, 3, 3, 3, 0, 9], dtype=np.uint64)
    for t in range(len(keys) + 1):
        expected = sorted(sorted(range(len(keys)), key=lambda k: (keys[k], k))[:t])
        assert _smallest(keys, t).tolist() == expected


def test_too_many_skip_candidates_is_refused():
    from nnmass.spec import MAX_SKIP_CANDIDATES, skip_candidates
    assert skip_candidates(16, 8) == sum(8 * (i - 1) for i in range(2, 16))
    assert skip_candidates(2, 8) == skip_candidates(1, 8) == 0
    with pytest.raises(UsageError, match=r"depth 100000 x width 8 gives 39,998,800,008 candidate skip "
                                         r"sources.*at most 268,435,456"):
        DenseMLPSpec(depth=100_000)
    assert skip_candidates(8194, 8) > MAX_SKIP_CANDIDATES >= skip_candidates(8193, 8)


def test_skips_same_in_a_fresh_process():
    code = ("from nnmass.spec import DenseCNNSpec; import json; "
            "print(json.dumps(DenseCNNSpec(seed=5, depth=(6, 6, 6), wm=1).to_dict()['skips']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    here = DenseCNNSpec(seed=5, depth=(6, 6, 6), wm=1).to_dict()["skips"]
    assert json.loads(out) == here


def test_replace_resamples_when_shape_changes():
    spec = DenseMLPSpec(width=4, depth=6, tc=3, seed=1)
    deeper = spec.replace(depth=8)
    check_skip_structure(deeper.skips, 8, 4, 3)
    assert deeper.skips == DenseMLPSpec(width=4, depth=8, tc=3, seed=1).skips
    assert spec.replace(seed=2).skips == DenseMLPSpec(width=4, depth=6, tc=3, seed=2).skips


def gathered(gathers, width):
    """Flat skip indices each SkipGather really reads, rebuilt from its index buffers."""
    out = []
    for g in gathers:
        flat = []
        for name, buf in g.named_buffers():
            j = int(name[len("idx"):])
            flat += [j * width + int(c) for c in buf]
        out.append(tuple(sorted(flat)))
    return out


@pytest.mark.parametrize("layout", ["official", "hidden"])
@pytest.mark.parametrize("width,depth,tc", [(8, 16, 10), (3, 7, 100), (5, 4, 0), (1, 2, 3)])
def test_built_mlp_reads_the_sampled_links(width, depth, tc, layout):
    from nnmass.models import build
    spec = DenseMLPSpec(input_dim=6, width=width, depth=depth, tc=tc, seed=4, layout=layout)
    model = build(spec)
    links = gathered(model.gathers, width)
    assert links == list(spec.skips)
    assert sum(map(len, links)) == dense_skip_count(depth, width, tc)
    layers = list(model.layers) + ([model.classifier] if layout == "official" else [])
    assert [m.in_features for m in layers] == [6] + [width + len(s) for s in spec.skips[1:]]
    assert model.classifier.in_features == (width + len(spec.skips[-1]) if layout == "official" else width)


def test_built_cnn_reads_the_sampled_links():
    from nnmass.models import build
    spec = DenseCNNSpec(num_cells=3, depth=(4, 5, 3), wm=0.5, tc=(2, 20, 7), conv="separable", seed=2)
    model = build(spec)
    for cell, skips, d, w, t in zip(model.cells, spec.skips, spec.depth, spec.widths, spec.tc):
        links = gathered(cell.gathers, w)
        assert links == list(skips)
        assert sum(map(len, links)) == dense_skip_count(d, w, t)
