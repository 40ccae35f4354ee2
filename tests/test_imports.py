"""The closed-form layer (topology, specs, mass closed forms and cell rules, costs, families,
validation, design, grids, training config) never imports torch."""
import subprocess
import sys


def test_closed_form_modules_leave_torch_out():
    code = ("import sys\n"
            "import nnmass.topology, nnmass.spec, nnmass.mass, nnmass.mass.closed_form, nnmass.cost\n"
            "import nnmass.mass.graph, nnmass.mass.layers, nnmass.mass.cells, nnmass.mass.mobilenet\n"
            "import nnmass.families, nnmass.validate, nnmass.design, nnmass.bounds, nnmass.stats\n"
            "import nnmass.rank.combined\n"
            "nnmass.rank.combined.combine([[1.0, 2.0], [2.0, 1.0]])\n"
            "import nnmass.sweep, nnmass.sweep.grid, nnmass.train, nnmass.train.config\n"
            "from nnmass.train import TrainConfig, default_config\n"
            "from nnmass.cost import spec_cost\n"
            "from nnmass.families import spec_for\n"
            "from nnmass.mass import spec_report\n"
            "spec_cost(spec_for('mobilenet_v2')); spec_report(spec_for('dense-cnn'))\n"
            "default_config('mnist-5k', 'dense-mlp')\n"
            "nnmass.sweep.grid.grid_from_dict({'model': 'dense-mlp', 'dataset': 'digits', 'epochs': 1,"
            " 'train': {'lr': '1e-3'}}).trials()\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_topology_alone_leaves_torch_out():
    """The check the issue names, verbatim."""
    out = subprocess.run([sys.executable, "-c", "import sys, nnmass.topology; assert 'torch' not in sys.modules"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
