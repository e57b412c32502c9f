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

# --- chapter 4: LSTMs ----------------------------------------------------------------------------

# --- chapter 5: attention ------------------------------------------------------------------------
# isort: split
from .attention import (
    AdditiveAttention,
    KVCache,
    MultiHeadAttention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)
from .seq2seq import DecoderState, Seq2Seq

# --- chapter 6: the Transformer ------------------------------------------------------------------
# isort: split
from .data import (
    Batch,
    CharTokenizer,
    Vocab,
    date_dataset,
    date_splits,
    date_tokenizer,
    format_date,
    make_batches,
    pad_batch,
)
from .decoding import beam_search, exact_match, greedy_decode
from .training import (
    label_smoothed_cross_entropy,
    noam_lr,
    noam_scheduler,
    seq2seq_loss,
    warmup_linear_scheduler,
)
from .transformer import (
    Decoder,
    DecoderCache,
    DecoderLayer,
    Encoder,
    EncoderLayer,
    PositionalEncoding,
    Transformer,
    TransformerConfig,
    count_parameters,
    load_checkpoint,
    save_checkpoint,
    sinusoidal_positions,
)

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
    # chapter 4
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
]
