"""Linear regression trained with torch on CPU or GPU: the bridge from toy surfaces to real training.

The experiment of the notes on gradient descent (y = 2x + 1 + noise, ``nn.Linear(1, 1)``, MSE, ``torch.optim.SGD``), with every
optimizer and schedule of the engine's registries, full-batch GD / SGD / minibatch modes, the
closed-form least-squares reference and a measured GD-vs-SGD-vs-minibatch comparison.

>>> from gdviz import regression
>>> X, y = regression.make_data(100)                    # the notes' data: x ~ 10·N(0, 1), w = 2, b = 1, σ = 2
>>> result = regression.train(X, y, "SGD", lr=0.001, epochs=10)   # full batch, as the notes' loop
>>> weight, bias = regression.closed_form(X, y)

torch is imported inside the functions, so ``import gdviz`` (and this package) stays light.
"""

from gdviz.regression.comparison import (
    Claim,
    ComparisonRow,
    Mode,
    compare,
    d2l_claims,
    default_modes,
    gradient_noise,
    suggested_lr,
)
from gdviz.regression.csv_table import CSVError, Table, parse_csv, select_columns
from gdviz.regression.data import ClosedForm, closed_form, make_data, mse_moments, mse_on_grid, solve
from gdviz.regression.device import DeviceInfo, DeviceMemoryError, UnavailableDevice, devices, resolve_device
from gdviz.regression.optim import build_optimizer, build_scheduler, uses_torch_optim
from gdviz.regression.result import TrainResult
from gdviz.regression.training import train, training_bytes, warm_up

__all__ = [
    "CSVError",
    "Claim",
    "ClosedForm",
    "ComparisonRow",
    "DeviceInfo",
    "DeviceMemoryError",
    "Mode",
    "Table",
    "TrainResult",
    "UnavailableDevice",
    "build_optimizer",
    "build_scheduler",
    "closed_form",
    "compare",
    "d2l_claims",
    "default_modes",
    "devices",
    "gradient_noise",
    "make_data",
    "mse_moments",
    "mse_on_grid",
    "parse_csv",
    "resolve_device",
    "select_columns",
    "solve",
    "suggested_lr",
    "train",
    "training_bytes",
    "warm_up",
    "uses_torch_optim",
]
