"""minitransformer: sequence models from the perceptron to the Transformer, built from scratch.

The package behind the book. Every chapter does ``import minitransformer as mt``; the public
names below are the whole API. Conventions: batch first (tokens ``(B, T)``, activations
``(B, T, D)``); boolean masks with ``True`` meaning "may attend"; ``mt.seed_everything`` for
reproducible runs.
"""

from . import data, exercises, viz
from .training import History, train
from .utils import seed_everything, time_it

# --- chapter 1: perceptrons and MLPs ---------------------------------------------------------

# --- chapters 2-3: recurrent networks, vanishing gradients -------------------------------------
# isort: split
from . import tasks
from .rnn import RNN, RNNCell, gradient_norms_through_time
from .tasks import SequenceClassifier, SequenceRegressor, train_long_range

# --- chapter 4: LSTMs ----------------------------------------------------------------------------
# isort: split
from .lstm import LSTM, LSTMCell

# --- chapter 5: attention ------------------------------------------------------------------------

# --- chapter 6: the Transformer ------------------------------------------------------------------

__version__ = "0.1.0"

__all__ = [
    "History",
    "data",
    "exercises",
    "seed_everything",
    "time_it",
    "train",
    "viz",
    # chapter 1
    # chapters 2-3
    "RNN",
    "RNNCell",
    "SequenceClassifier",
    "SequenceRegressor",
    "gradient_norms_through_time",
    "tasks",
    "train_long_range",
    # chapter 4
    "LSTM",
    "LSTMCell",
    # chapter 5
    # chapter 6
]
