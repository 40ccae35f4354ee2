"""Training-free ("zero-cost") architecture proxies, one function each, to rank NN-Mass
against them.

Every proxy is ``proxy(model, batch) -> float`` with ``batch`` a :class:`ProxyBatch`
(inputs, integer targets, number of classes, seed; :func:`gaussian_batch` makes one).
The registry knows them by name::

    from nnmass import proxies
    batch = proxies.gaussian_batch((3, 32, 32), batch_size=64, num_classes=10, seed=0)
    proxies.synflow(model, batch)                              # one proxy
    proxies.score_all(model, batch, "synflow,snip")            # {"synflow": ..., "snip": ...}
    run = proxies.run_proxies(model, batch, "all")             # .scores, .seconds, .undefined

Names: ``params macs nn_mass synflow snip grad_norm grasp fisher jacob_cov nwot zen
zico meco``. ``synflow`` and ``zen`` are data-free (all-ones and seeded Gaussian
inputs), ``params macs nn_mass`` read only the input shape, the rest read the batch.

Conventions shared by all proxies (each docstring gives its own formula, paper and
the reference implementation it follows):

- The model is never changed: proxies run it with ``torch.func.functional_call`` on
  stand-in tensors (parameters detached, buffers cloned), so its parameters, buffers
  and ``.grad`` stay as they were; train/eval flags are set for the run and restored,
  and every hook is removed.
- Proxies run the model in train mode (BatchNorm uses batch statistics), as the
  reference implementations score freshly built networks; ``macs``, ``synflow`` and
  ``nn_mass``'s trace use eval mode (see their docstrings).
- The model returns logits ``[N, classes]``: a tensor, a tuple or list whose first
  tensor they are (googlenet's and inception_v3's main head; their auxiliary heads
  follow it), or a dict with a ``logits`` (else ``out``) tensor.
- Per-weight sums (synflow, snip, grad_norm, grasp, fisher, zico) run over the weights
  of conv (1-D/2-D/3-D) and linear layers, biases and norm layers excluded, as in
  zero-cost-nas and NASLib.
- Everything runs on the model's device (the batch is moved there). Every random
  choice a proxy makes comes from a ``torch.Generator`` on the CPU seeded with
  ``batch.seed`` (same numbers on CPU and CUDA); randomness inside the model (dropout)
  runs on torch's global generators seeded with ``batch.seed`` inside a fork, so the
  caller's generator states are left as they were.

Undefined values: a proxy whose value is not finite or not defined (the log of zero,
a singular kernel, a correlation of a constant row, NN-Mass of a network with an
unclassified merge) returns ``float('nan')``, never a sentinel such as NASLib's
``-1e8`` or a constant; :class:`ProxyRun` lists those names in ``undefined``. So do
a batch smaller than a proxy's ``min_batch`` (jacob_cov, nwot and zico compare
samples: 2), a network without parameters (all but params, macs and nn_mass), and
one logit (the cross-entropy is 0 whatever the weights: snip, grad_norm, grasp,
fisher, zico). Bad input (an unknown name, a model that returns no logits) raises
``nnmass.errors.UsageError``.

The package imports lazily: the names below load every proxy module (and torch) on
first use (:mod:`.catalog`), so ``nnmass.proxies.proxy_names`` loads without torch.
"""
from importlib import import_module

#: Names the package hands on; the first use of any of them imports ``.catalog`` (every
#: proxy module, so torch), which binds them all here.
_EXPORTS = ("ProxyBatch", "gaussian_batch", "Proxy", "ProxyRun", "PROXIES", "DATA_FREE", "get", "names",
            "parse_names", "register_proxy", "run_proxies", "score_all",
            "params", "macs", "nn_mass", "synflow", "snip", "grad_norm", "grasp", "fisher", "jacob_cov",
            "nwot", "zen", "zico", "meco")


def __getattr__(name: str):
    if name in _EXPORTS:
        import_module(".catalog", __name__)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_EXPORTS)
