"""Every proxy module, imported in registration order, so that the registry is full.

The proxy functions share their names with their modules (``nnmass.proxies.synflow``
is both), and importing a submodule binds the module to the package's attribute; so
this module binds the functions (and the registry's names) onto the package once all
are imported, and ``from nnmass import proxies; proxies.synflow(model, batch)`` calls
the function. Any path that needs the whole registry imports this module.
"""
import sys

from .batch import ProxyBatch, gaussian_batch
from .proxy_names import PROXY_NAMES
from .registry import PROXIES, Proxy, ProxyRun, get, names, parse_names, register_proxy, run_proxies, score_all

# The order of names(), whichever proxy module was imported first (``fused`` imports
# several before this one): the proxy modules in this order, then any other names.
from .params import params
from .macs import macs
from .nn_mass import nn_mass
from .synflow import synflow
from .snip import snip
from .grad_norm import grad_norm
from .grasp import grasp
from .fisher import fisher
from .jacob_cov import jacob_cov
from .nwot import nwot
from .zen import zen
from .zico import zico
from .meco import meco

for _name in PROXY_NAMES:
    PROXIES[_name] = PROXIES.pop(_name)

#: The proxies that read no input values (the batch gives the shape and the seed).
DATA_FREE = tuple(name for name, proxy in PROXIES.items() if not proxy.needs_data)

_package = sys.modules[__package__]
for _name in _package.__all__:
    setattr(_package, _name, globals()[_name])
