"""The closed-form layer (topology, specs, mass closed forms and cell rules, costs, families,
validation, design, grids, training config) never imports torch."""
import json
import subprocess
import sys

_LIST_TORCH = "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"


def torch_modules_after(code: str) -> str:
    """The torch modules loaded once ``code`` has run in a fresh interpreter, as printed."""
    out = subprocess.run([sys.executable, "-c", "import sys\n" + code + _LIST_TORCH],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_closed_form_modules_leave_torch_out():
    code = ("import nnmass.topology, nnmass.spec, nnmass.mass, nnmass.mass.closed_form, nnmass.cost\n"
            "import nnmass.mass.graph, nnmass.mass.layers, nnmass.mass.cells, nnmass.mass.mobilenet\n"
            "import nnmass.families, nnmass.validate, nnmass.design, nnmass.bounds, nnmass.stats\n"
            "import nnmass.proxies.combined\n"
            "nnmass.proxies.combined.combine([[1.0, 2.0], [2.0, 1.0]])\n"
            "import nnmass.sweep, nnmass.sweep.grid, nnmass.train, nnmass.train.config\n"
            "from nnmass.train import TrainConfig, default_config\n"
            "from nnmass.cost import spec_cost\n"
            "from nnmass.families import spec_for\n"
            "from nnmass.mass import spec_report\n"
            "spec_cost(spec_for('mobilenet_v2')); spec_report(spec_for('dense-cnn'))\n"
            "default_config('mnist-5k', 'dense-mlp')\n"
            "nnmass.sweep.grid.grid_from_dict({'model': 'dense-mlp', 'dataset': 'digits', 'epochs': 1,"
            " 'train': {'lr': '1e-3'}}).trials()\n")
    assert torch_modules_after(code) == "[]"


def test_topology_alone_leaves_torch_out():
    """The check the issue names, verbatim."""
    out = subprocess.run([sys.executable, "-c", "import sys, nnmass.topology; assert 'torch' not in sys.modules"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_proxy_names_leave_torch_out():
    """The proxy names and their parser load without torch; ``nnmass.proxies`` imports
    its proxy modules (and torch) only when one of its names is first used."""
    code = ("import nnmass.proxies, nnmass.proxies.proxy_names\n"
            "from nnmass.proxies.proxy_names import PROXY_NAMES, parse_proxy_names\n"
            "assert parse_proxy_names('snip,all')[:2] == ('snip', 'params')\n")
    assert torch_modules_after(code) == "[]"


def test_proxy_functions_are_the_package_attributes_whatever_is_imported_first():
    """A proxy function shares its name with its module; the package still hands on the
    function, and the registry keeps its order, after a submodule was imported first."""
    code = ("from nnmass.proxies.fused import score_fused\n"
            "from nnmass.proxies.proxy_names import PROXY_NAMES\n"
            "from nnmass import proxies\n"
            "assert callable(proxies.nwot) and proxies.nwot is proxies.get('nwot').function\n"
            "assert tuple(proxies.names()) == PROXY_NAMES\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_data_set_names_leave_torch_out_and_match_the_loaders():
    """``nnmass.data.names`` loads without torch and names exactly the sets the loaders read:
    the embedded ones, synthetic, torchvision's in-memory sets and ImageNet."""
    code = ("import json, sys\n"
            "from nnmass.data.names import DATASETS\n"
            "assert 'torch' not in sys.modules\n"
            "from nnmass.data.torchvision_sets import IN_MEMORY\n"
            "print(json.dumps([list(DATASETS), list(IN_MEMORY)]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names, in_memory = json.loads(out.stdout)
    assert names == ["mnist-5k", "digits", "synthetic", *in_memory, "imagenet"]


def test_search_spaces_leave_torch_out():
    """Every space reads, writes, lists, samples and gives its network's arguments
    without torch; only ``nnmass.models.space_networks`` builds."""
    code = ("import numpy as np\n"
            "from nnmass.spaces import get_space, space_names\n"
            "for name in space_names():\n"
            "    s = get_space(name)\n"
            "    a = s.sample(np.random.default_rng(0))\n"
            "    assert s.parse(s.format(a)) == a and s.canonical_key(a)\n"
            "    assert s.network_args(s.mutate(a, np.random.default_rng(1)))\n")
    assert torch_modules_after(code) == "[]"


def test_every_lazily_exported_name_resolves():
    """Each package's table of names imported on first use points at a module that has them."""
    import importlib
    packages = ["nnmass.mass", "nnmass.sweep", "nnmass.train", "nnmass.data", "nnmass.rank"]
    missing = []
    for package in packages:
        module = importlib.import_module(package)
        for name in module._LAZY:
            try:
                getattr(module, name)
            except (ImportError, AttributeError) as error:
                missing.append(f"{package}.{name}: {error}")
    assert not missing
