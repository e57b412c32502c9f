"""minitransformer: sequence models from the perceptron to the Transformer, built from scratch.

The package behind the book. Every chapter does ``import minitransformer as mt``; the public
names below are the whole API. Conventions: batch first (tokens ``(B, T)``, activations
``(B, T, D)``); boolean masks with ``True`` meaning "may attend"; ``mt.seed_everything`` for
reproducible runs. Importing the package changes no global state: the book's plot style is
opted into with ``mt.viz.use_style()``.
"""

from . import _exercise_cases, checkpoint, data, diagrams, exercises, viz  # noqa: F401
from .training import History, train
from .utils import (
    device_from_env,
    read_results,
    record_result,
    seed_everything,
    seed_from_env,
    time_it,
)

# --- chapter 1: perceptrons and MLPs ---------------------------------------------------------
# isort: split
from .mlp import MLP, numerical_gradient
from .perceptron import Perceptron, perceptron_update

# --- chapters 2-3: recurrent networks, vanishing gradients -------------------------------------
# isort: split
from . import tasks
from .rnn import RNN, RNNCell, gradient_norms_through_time
from .tasks import SequenceClassifier, SequenceRegressor, train_long_range

# --- chapter 4: LSTMs ----------------------------------------------------------------------------
# isort: split
from .lstm import LSTM, LSTMCell

# --- chapter 5: attention ------------------------------------------------------------------------
# isort: split
from .attention import (
    KVCache,
    MultiHeadAttention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)
from .seq2seq import AdditiveAttention, DecoderState, Seq2Seq

# --- chapter 6: the Transformer ------------------------------------------------------------------
# isort: split
from .checkpoint import count_parameters, load_checkpoint, save_checkpoint
from .data import (
    Batch,
    date_dataset,
    date_field_spans,
    date_splits,
    date_tokenizer,
    format_date,
    make_batches,
    pad_batch,
)
from .decoding import beam_search, exact_match, greedy_decode
from .layers import DecoderLayer, EncoderLayer, PositionalEncoding, sinusoidal_positions
from .tokenizers import CharTokenizer, Vocab
from .training import (
    label_smoothed_cross_entropy,
    noam_lr,
    noam_scheduler,
    seq2seq_loss,
    warmup_linear_scheduler,
)
from .transformer import Decoder, DecoderCache, Encoder, Transformer, TransformerConfig

# --- chapter 7: words and language models --------------------------------------------------------
# isort: split
from . import tokenizers
from .decoding import filter_logits, generate
from .gpt import GPT, GPTConfig, kv_cache_bytes
from .tokenizers import BPETokenizer, WordTokenizer

__version__ = "0.1.0"

__all__ = [
    "History",
    "checkpoint",
    "data",
    "device_from_env",
    "diagrams",
    "exercises",
    "read_results",
    "record_result",
    "seed_everything",
    "seed_from_env",
    "time_it",
    "train",
    "viz",
    # chapter 1
    "MLP",
    "Perceptron",
    "numerical_gradient",
    "perceptron_update",
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
    "AdditiveAttention",
    "KVCache",
    "MultiHeadAttention",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "DecoderState",
    "Seq2Seq",
    # chapter 6
    "Batch",
    "CharTokenizer",
    "Vocab",
    "date_dataset",
    "date_field_spans",
    "date_splits",
    "date_tokenizer",
    "format_date",
    "make_batches",
    "pad_batch",
    "label_smoothed_cross_entropy",
    "noam_lr",
    "noam_scheduler",
    "seq2seq_loss",
    "warmup_linear_scheduler",
    "beam_search",
    "exact_match",
    "greedy_decode",
    "Decoder",
    "DecoderCache",
    "DecoderLayer",
    "Encoder",
    "EncoderLayer",
    "PositionalEncoding",
    "Transformer",
    "TransformerConfig",
    "count_parameters",
    "load_checkpoint",
    "save_checkpoint",
    "sinusoidal_positions",
    # chapter 7
    "BPETokenizer",
    "GPT",
    "GPTConfig",
    "WordTokenizer",
    "filter_logits",
    "generate",
    "kv_cache_bytes",
    "tokenizers",
]
