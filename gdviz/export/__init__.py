"""A race written out for another toolkit: :func:`torch_script` gives a standalone PyTorch script.

Nothing here imports torch: the script is text, and torch runs only where the script is run.
"""

from gdviz.export.torch_script import torch_script

__all__ = ["torch_script"]
