"""Real networks: several optimizers' paths on one neural-network loss landscape, trained with torch.

A small MLP learns a problem made here (two moons, two spirals, a noisy cubic) from one set of initial
weights with several optimizers of the engine's registry (torch.optim does the training, on the CPU or a
GPU); every iterate is recorded, all the paths are projected onto one plane (the PCA plane of the pooled
paths, or Li et al.'s filter-normalized random directions), and the loss is evaluated on a grid over
that plane in one batched pass (the first layer for the whole grid from three products with the data, the
weights being affine in the plane's coordinates; then a ``bmm`` per layer over cache-sized chunks).

>>> from gdviz import network
>>> data = network.make_dataset("moons", 200, noise=0.1, seed=0)
>>> spec = network.MLP(inputs=2, width=32, depth=2)
>>> paths = network.train_racers(data, spec, ["SGD", ("Adam", {"lr": 0.01})], steps=100)
>>> view = network.landscape(paths, data, plane="pca", grid=41)

torch is imported inside the functions, so ``import gdviz.network`` stays light.
"""

from gdviz.network.data import DATASETS, Dataset, make_dataset
from gdviz.network.grid import Evaluator
from gdviz.network.landscape import CENTRES, PLANES, Landscape, landscape, make_plane, window
from gdviz.network.model import ACTIVATIONS, MLP, build, initial_weights, loss_function
from gdviz.network.plane import Plane, captured_share, filter_normalized, pca_plane, random_plane
from gdviz.network.script import network_script
from gdviz.network.training import DIVERGENCE_FACTOR, Paths, Racer, train_racers

__all__ = [
    "ACTIVATIONS",
    "CENTRES",
    "DATASETS",
    "DIVERGENCE_FACTOR",
    "MLP",
    "PLANES",
    "Dataset",
    "Evaluator",
    "Landscape",
    "Paths",
    "Plane",
    "Racer",
    "build",
    "captured_share",
    "filter_normalized",
    "initial_weights",
    "landscape",
    "loss_function",
    "make_dataset",
    "make_plane",
    "network_script",
    "pca_plane",
    "random_plane",
    "train_racers",
    "window",
]
