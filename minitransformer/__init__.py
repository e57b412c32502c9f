"""minitransformer: sequence models from the perceptron to the Transformer, built from scratch.

The package behind the book. Every chapter does ``import minitransformer as mt``; the public
names below are the whole API. Conventions: batch first (tokens ``(B, T)``, activations
``(B, T, D)``); boolean masks with ``True`` meaning "may attend"; ``mt.seed_everything`` for
reproducible runs.
"""

from .utils import seed_everything, time_it

__version__ = "0.1.0"

__all__ = [
    "seed_everything",
    "time_it",
]
