"""The paper's studies as data: grid files shipped in the package, and the ImageNet
zoo (no training). ``nnmass study NAME`` runs one end to end."""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from ..errors import UsageError


@dataclass(frozen=True)
class Study:
    name: str
    summary: str
    grid_file: str | None = None  # under nnmass/studies/
    quick_file: str | None = None
    needs_data_root: bool = False
    reference: str | None = None  # key of nnmass.report.PAPER_R2
    # Grid changes when --data-root holds the paper's own data set (e.g. full MNIST).
    with_data_root: tuple = ()


STUDIES = {s.name: s for s in (
    Study("mnist-mlp", "MLPs of width 8, depths 16-32, varied tc, on 5,000 real MNIST digits, or on MNIST "
          "from --data-root (Fig. 3-4)", "mnist_mlp.yaml", "mnist_mlp_quick.yaml", reference="mnist-mlp",
          # Full MNIST: the authors' default of one epoch (938 steps at batch 64).
          with_data_root=(("dataset", "mnist"), ("epochs", 1))),
    Study("cifar10-cnn", "three-cell DenseNet-type CNNs, wm 2, on CIFAR-10 from --data-root (Fig. 5)",
          "cifar10_cnn.yaml", None, needs_data_root=True, reference="cifar10-cnn"),
    Study("imagenet-zoo", "torchvision's ImageNet models: top-1 vs NN-Mass and #Params, no training (Fig. 6)"),
    Study("nb201-proxies", "every training-free proxy on NASLib's NAS-Bench-201 sample (cifar10, cifar100, "
          "ImageNet16-120), ranked against accuracy and checked against NASLib's scores; no training"),
)}


def get_study(name: str) -> Study:
    if name not in STUDIES:
        raise UsageError(f"unknown study {name!r}; valid: {', '.join(STUDIES)}")
    return STUDIES[name]


def load_study_grid(name: str, quick: bool = False):
    """The :class:`nnmass.sweep.grid.Grid` of a training study, read from the package."""
    import yaml

    from ..sweep.grid import grid_from_dict

    study = get_study(name)
    if study.grid_file is None:
        raise UsageError(f"study {name!r} trains nothing and has no grid")
    if quick and study.quick_file is None:
        raise UsageError(f"study {name!r} has no --quick version; --quick exists for: "
                         + ", ".join(s.name for s in STUDIES.values() if s.quick_file))
    filename = study.quick_file if quick else study.grid_file
    text = resources.files(__name__).joinpath(filename).read_text()
    return grid_from_dict(yaml.safe_load(text), source=f"nnmass/studies/{filename}", default_name=name)
