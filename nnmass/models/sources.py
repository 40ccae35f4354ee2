"""Every way to get an ``nn.Module`` from a MODEL string: a family name or spec
``.json`` file (built from its spec), ``torchvision:NAME``, ``timm:NAME``,
``SPACE:ARCH`` (an architecture of a NAS benchmark's space: ``nb201:``, ``nb101:``,
``nb301:``/``darts:``, ``tnb-micro:``, ``tnb-macro:``; :mod:`nnmass.spaces`) or
``path/to/file.py:FACTORY``."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from torch import nn

from ..errors import UsageError
from ..spaces import SPACE_MODULES, split_model
from ..spec import Spec
from ..validate import check_shape, shown
from ..validate import parse_shape as _parse_shape

DEFAULT_IMAGE_SHAPE = (1, 3, 224, 224)
PREFIXES = ("torchvision:", "timm:") + tuple(f"{name}:" for name in SPACE_MODULES)


def is_module_source(text: str) -> bool:
    """Whether ``text`` names a module source (or a model file naming one) rather than a
    family or spec file."""
    from .model_file import read_model_file
    return text.startswith(PREFIXES) or _file_factory(text) is not None or read_model_file(text) is not None


def _file_factory(text: str):
    path, sep, factory = text.rpartition(":")
    if sep and path.endswith(".py") and factory.isidentifier():
        return path, factory
    return None


def load_module(text: str, sets: dict | None = None) -> tuple[nn.Module, tuple[int, ...]]:
    """The module ``text`` names and its default input shape.

    Args:
        sets: ``--set`` values; only a space's ``SPACE:ARCH`` takes any (``task`` and the
            space's own keys).

    Raises:
        UsageError: unknown model, missing package, unreadable file or factory, bad sets.
    """
    from .model_file import read_model_file
    in_file = read_model_file(text)
    if in_file is not None:  # the command line's --set win over the file's
        return load_module(in_file[0], {**in_file[1], **(sets or {})})
    in_space = split_model(text)
    if in_space is not None:
        return _in_space(*in_space, sets or {})
    if sets:
        raise UsageError("--set applies to model families, spec files and SPACE:ARCH (nb201:, nb101:, ...), "
                         "not to " + shown(text))
    if text.startswith("torchvision:"):
        return _torchvision(text.split(":", 1)[1]), DEFAULT_IMAGE_SHAPE
    if text.startswith("timm:"):
        return _timm(text.split(":", 1)[1])
    ff = _file_factory(text)
    if ff is None:
        raise UsageError(f"cannot read model {text!r}; use torchvision:NAME, timm:NAME or path/to/file.py:FACTORY")
    return _from_file(*ff)


def _in_space(space, arch: str, sets: dict) -> tuple[nn.Module, tuple[int, ...]]:
    """The network of ``arch`` in ``space``; ``--set task=`` picks the task (its input size)."""
    parsed = space.parse(arch)
    task = space.task(sets.get("task"))
    from .space_networks import build_in_space
    return build_in_space(space, parsed, task.name, sets), (1, *task.input_shape)


def _torchvision(name: str) -> nn.Module:
    import torchvision.models as tvm
    valid = tvm.list_models(module=tvm)
    if name not in valid:
        raise UsageError(f"unknown torchvision classification model {name!r}; see "
                         "python -c 'import torchvision; print(torchvision.models.list_models(torchvision.models))'")
    return tvm.get_model(name, weights=None)


def _timm(name: str) -> tuple[nn.Module, tuple[int, ...]]:
    try:
        import timm
    except ImportError:
        raise UsageError("timm:NAME needs timm: pip install timm") from None
    if name not in timm.list_models():
        raise UsageError(f"unknown timm model {name!r}; see python -c 'import timm; print(timm.list_models())'")
    model = timm.create_model(name, pretrained=False)
    size = tuple(model.default_cfg.get("input_size", DEFAULT_IMAGE_SHAPE[1:]))
    return model, (1,) + size


def _from_file(path: str, factory: str) -> tuple[nn.Module, tuple[int, ...]]:
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"model file {path!r} not found")
    mod_name = f"_nnmass_user_{file.stem}"
    spec = importlib.util.spec_from_file_location(mod_name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except SystemExit as e:  # the file's own sys.exit() must not end nnmass silently with its code
        raise UsageError(f"cannot import {path!r}: it called sys.exit({shown(e.code)}) while being imported") from None
    except Exception as e:
        raise UsageError(f"cannot import {path!r}: {type(e).__name__}: {shown(str(e))[1:-1]}") from None
    fn = getattr(module, factory, None)
    if not callable(fn):
        names = [n for n, v in vars(module).items() if callable(v) and not n.startswith("_")]
        raise UsageError(f"{path!r} has no function or class {factory!r}; callables there: {', '.join(names)}")
    try:
        model = fn()
    except SystemExit as e:
        raise UsageError(f"{path}:{factory}() called sys.exit({shown(e.code)}) instead of returning a model") from None
    except Exception as e:
        raise UsageError(f"{path}:{factory}() failed: {type(e).__name__}: {shown(str(e))[1:-1]}") from None
    if not isinstance(model, nn.Module):
        raise UsageError(f"{path}:{factory} returned {type(model).__name__}, not a torch.nn.Module")
    return model, check_shape(f"INPUT_SHAPE of {path!r}", getattr(module, "INPUT_SHAPE", DEFAULT_IMAGE_SHAPE))


def model_from(text: str, sets: dict | None = None, seed: int = 0) -> tuple[nn.Module, tuple[int, ...], Spec | None]:
    """The module ``text`` names, its default input shape (batch 1) and its spec
    (``None`` for a module source).

    Args:
        text: a family, a spec ``.json`` file, or a module source.
        sets: ``--set`` values for a family or spec file.
        seed: seeds the weight init of a spec's module.
    """
    if is_module_source(text):
        module, shape = load_module(text, sets)
        return module, shape, None
    from ..families import spec_for
    from . import build, input_shape
    spec = spec_for(text, sets)
    return build(spec, seed=seed), input_shape(spec), spec


def parse_shape(text: str) -> tuple[int, ...]:
    """``"1,3,224,224"`` -> ``(1, 3, 224, 224)``: :func:`nnmass.validate.parse_shape`."""
    return _parse_shape(text, "--input-shape")
