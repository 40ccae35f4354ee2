"""Shared test settings."""
import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """One intra-op thread: the tensors in these tests are tiny, and on a shared 2-core
    machine a second spinning thread makes small ops many times slower. (Torch-free
    imports are checked in subprocesses, so importing torch here hides nothing.)"""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
