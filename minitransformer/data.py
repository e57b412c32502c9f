"""Data sets made by code (nothing is downloaded), tokenizers and batching.

Sections, in the order the book uses them: two-dimensional classification sets (chapter 1),
sequence tasks and long-range memory tasks (chapters 2-4), the date-translation task with its
character tokenizer (chapters 5-6). Every generator takes an explicit ``seed`` or
``torch.Generator`` so a chapter run twice sees the same data.
"""

from __future__ import annotations

import numpy as np
import torch

from ._validation import check_int

__all__ = [
    # chapter 1
    # chapters 2-4
    # chapters 5-6
]

# --- chapter 1: two-dimensional classification sets ----------------------------------------------


# --- chapters 2-4: sequence tasks ----------------------------------------------------------------


# --- chapters 5-6: dates to ISO dates, a character tokenizer, batching with padding --------------
