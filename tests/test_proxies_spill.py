"""Saved tensors spilled to disk come back bit for bit: every proxy's value is unchanged,
the files go when the graph does, and the budget is read and checked as documented."""
import mmap
import os

import pytest
import torch

from nnmass import proxies
from nnmass.errors import UsageError
from nnmass.proxies import spill
from nnmass.proxies.fused import score_fused
from cli_in_process import run_cli
from test_proxies_contract import batch201, tiny201
from test_proxies_fused import ARCHS, check_equal, small_nb201


class Counted(spill._OnDisk):
    """The real file round trip, counting writes and reads."""
    writes = reads = 0

    def __init__(self, *args):
        super().__init__(*args)
        Counted.writes += 1

    def read(self):
        Counted.reads += 1
        return super().read()


@pytest.fixture
def spill_everything(monkeypatch, tmp_path):
    """Armed on any batch, past a 1 MB budget (always exceeded), for any tensor of 1 KiB
    or more, into a temporary folder under ``tmp_path``; yields that parent folder."""
    monkeypatch.setattr(spill, "ARM_INPUT_BYTES", 0)
    monkeypatch.setattr(spill, "MIN_BYTES", 1024)
    monkeypatch.setattr(spill, "_OnDisk", Counted)
    monkeypatch.setattr(spill.tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv(spill.ENV, "1")
    Counted.writes = Counted.reads = 0
    yield tmp_path


@pytest.mark.parametrize("arch", ARCHS[:2])
def test_every_proxy_is_unchanged_when_the_passes_spill(spill_everything, arch):
    # grasp's one-pass double backward runs through tensors read back from disk.
    check_equal(small_nb201(arch), proxies.gaussian_batch((3, 8, 8), batch_size=4, num_classes=5, seed=3))
    assert Counted.writes > 20 and Counted.reads >= Counted.writes
    assert list(spill_everything.glob("nnmass-spill-*")) == []  # each run's folder is removed


def test_unchanged_with_dropout_and_grasps_two_passes(spill_everything):
    check_equal(tiny201(), batch201(n=6))
    assert Counted.writes > 0


def test_nothing_is_written_below_the_budget_or_on_small_inputs(spill_everything, monkeypatch):
    model, batch = small_nb201(ARCHS[0]), proxies.gaussian_batch((3, 8, 8), batch_size=4, num_classes=5, seed=3)
    monkeypatch.setenv(spill.ENV, str(1 << 20))  # a terabyte: never reached
    score_fused(model, batch, "snip,grasp")
    monkeypatch.setenv(spill.ENV, "1")
    monkeypatch.setattr(spill, "ARM_INPUT_BYTES", batch.inputs.nbytes + 1)  # not armed
    score_fused(model, batch, "snip,grasp")
    monkeypatch.setenv(spill.ENV, "0")  # off
    monkeypatch.setattr(spill, "ARM_INPUT_BYTES", 0)
    score_fused(model, batch, "snip,grasp")
    assert Counted.writes == 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.bool])
def test_a_tensor_comes_back_with_its_bytes_dtype_and_strides(tmp_path, dtype):
    x = (torch.randn(2, 3, 5, 7) * 100).to(dtype).contiguous(memory_format=torch.channels_last)
    views = [x, x[1], x.transpose(0, 3), x.permute(2, 0, 3, 1)]
    for i, t in enumerate(views):
        back = spill._OnDisk(t, tmp_path, i).read()
        assert back.dtype == t.dtype and back.shape == t.shape and back.stride() == t.stride()
        raw = (lambda v: v.view(torch.uint8)) if dtype == torch.bool else (lambda v: v)
        assert torch.equal(raw(back), raw(t))


def test_only_dense_cpu_tensors_of_the_minimum_size_are_spilled(monkeypatch):
    monkeypatch.setattr(spill, "MIN_BYTES", 64)
    assert spill._spillable(torch.zeros(4, 8))
    assert spill._spillable(torch.zeros(8, 4).t())  # a permutation of dense memory
    assert not spill._spillable(torch.zeros(4, 1).expand(4, 8))  # strides of 0 repeat memory
    assert not spill._spillable(torch.zeros(8, 8)[:, ::2])  # gaps
    assert not spill._spillable(torch.zeros(3))  # too small


def test_the_file_goes_when_the_graph_lets_go(spill_everything):
    x, w = torch.randn(32, 64, requires_grad=True), torch.randn(64, 64, requires_grad=True)
    (plain,) = torch.autograd.grad(torch.tanh(x @ w).sum(), w)
    with spill.spilled_past(1) as counts:
        y = torch.tanh(x @ w)  # saves x, w (leaves: re-attached when read back) and y
        (folder,) = spill_everything.glob("nnmass-spill-*")
        assert len(list(folder.iterdir())) == counts["tensors"] == 3
        (g,) = torch.autograd.grad(y.sum(), w)
        del y
        assert list(folder.iterdir()) == []
    assert not folder.exists() and torch.equal(g, plain)


def test_the_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(spill.ENV, raising=False)
    assert spill.budget_bytes() == spill.DEFAULT_BUDGET_MB << 20
    monkeypatch.setenv(spill.ENV, "0")
    assert spill.budget_bytes() is None
    for bad in ("-1", "1.5", "lots"):
        monkeypatch.setenv(spill.ENV, bad)
        with pytest.raises(UsageError, match="0 \\(never spill\\) or more"):
            spill.budget_bytes()


def test_a_bad_budget_is_refused_in_one_line_before_any_work(monkeypatch):
    monkeypatch.setenv(spill.ENV, "lots")
    done = run_cli("space", "nb201", "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "nnmass: error: NNMASS_SPILL_MB must be a whole number of MB, 0 (never spill) or more, got 'lots'"]


def test_resident_memory_is_read_on_linux():
    if not os.path.exists("/proc/self/statm"):
        pytest.skip("no /proc")
    # A fresh anonymous mapping, written through: heap memory that earlier tests freed
    # may stay resident and be reused, so a tensor need not raise the count.
    block = mmap.mmap(-1, 64 << 20)
    before = spill.resident_bytes()
    for page in range(0, 64 << 20, 4096):
        block[page] = 1
    assert spill.resident_bytes() >= before + (48 << 20)
    block.close()


def test_only_large_cpu_batches_arm_it(monkeypatch):
    from contextlib import nullcontext
    monkeypatch.setenv(spill.ENV, "1")
    large = spill.ARM_INPUT_BYTES // 4
    assert isinstance(spill.spilling_for(torch.empty(large - 1)), nullcontext)
    assert isinstance(spill.spilling_for(torch.empty(large, device="meta")), nullcontext)  # device memory stays
    assert not isinstance(spill.spilling_for(torch.empty(large)), nullcontext)
