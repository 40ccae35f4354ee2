"""The closed-form layer (topology, specs, formulas, costs, families, grids) never imports torch."""
import subprocess
import sys


def test_closed_form_modules_leave_torch_out():
    code = ("import sys\n"
            "import nnmass.topology, nnmass.spec, nnmass.formula, nnmass.cost, nnmass.families\n"
            "import nnmass.grid, nnmass.trainconfig\n"
            "from nnmass.cost import spec_cost\n"
            "from nnmass.families import spec_for\n"
            "spec_cost(spec_for('mobilenet_v2')); spec_cost(spec_for('dense-cnn'))\n"
            "nnmass.grid.grid_from_dict({'model': 'dense-mlp', 'dataset': 'digits', 'epochs': 1,"
            " 'train': {'lr': '1e-3'}}).trials()\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

