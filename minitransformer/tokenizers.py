"""Tokenizers: from text to the integer ids a language model reads (chapter 7).

Three granularities, from the smallest vocabulary and longest sequences to the reverse:

- **characters**: :class:`CharTokenizer` (chapters 5-6), one id per
  character seen in training;
- **words**: :class:`WordTokenizer`, one id per chunk of :func:`pre_tokenize` (a word with its
  leading space, a run of punctuation or of whitespace) seen in training, and ``<unk>`` for
  every other;
- **byte-level byte-pair encoding**: :class:`BPETokenizer`. Sennrich et al. (2016) start from
  characters and repeatedly merge the most frequent adjacent pair of symbols into a new
  symbol; GPT-2 (Radford et al. 2019) starts from the 256 *bytes* of UTF-8 instead, so any
  string has an encoding and nothing is ever unknown, and never merges across the chunks of
  :func:`pre_tokenize`. The vocabulary size is a dial between the two extremes above: 256 ids
  (bytes) and every word of the training text.

Read top to bottom: the character tokenizer, the pre-tokenizer, the word tokenizer, the merge step, BPE training, the
tokenizer itself.
"""

from __future__ import annotations

import heapq
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import pairwise
from pathlib import Path

import torch

from ._validation import check_int, describe

__all__ = ["BPETokenizer", "CharTokenizer", "Vocab", "WordTokenizer", "pre_tokenize"]

# --- characters -----------------------------------------------------------------------------------

class CharTokenizer:
    """Characters to integer ids and back, with four special tokens.

    Ids: ``pad`` = 0 (so zero-padding is padding), ``bos`` = 1 (start of a target), ``eos`` = 2
    (end of a target), ``unk`` = 3 (a character not seen when the tokenizer was built), then one
    id per character in sorted order, so the same texts always give the same ids.
    """

    PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
    pad_id, bos_id, eos_id, unk_id = 0, 1, 2, 3

    def __init__(self, chars: Iterable[str]):
        chars = sorted(set(chars))
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"chars must be single characters, got {c!r}")
        self.itos: list[str] = [self.PAD, self.BOS, self.EOS, self.UNK, *chars]
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.itos) if i >= 4}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CharTokenizer:
        """A tokenizer knowing every character that occurs in ``texts``."""
        if isinstance(texts, str):
            raise TypeError("texts must be an iterable of strings, got a single str")
        chars: set[str] = set()
        for t in texts:
            if not isinstance(t, str):
                raise TypeError(f"texts must contain strings, got {t!r} ({type(t).__name__})")
            chars.update(t)
        return cls(chars)

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def vocab_size(self) -> int:
        """Number of ids, special tokens included."""
        return len(self.itos)

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"

    def encode(self, text: str, *, bos: bool = False, eos: bool = False) -> list[int]:
        """Ids of ``text``'s characters (unknown ones become ``unk_id``), optionally framed
        by ``bos_id`` and ``eos_id``."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {text!r} ({type(text).__name__})")
        ids = [self.stoi.get(c, self.unk_id) for c in text]
        return ([self.bos_id] if bos else []) + ids + ([self.eos_id] if eos else [])

    def decode(self, ids: Iterable[int] | torch.Tensor) -> str:
        """The text of ``ids``: stops at the first ``eos``, skips ``pad`` and ``bos``, writes
        ``unk`` as ``?``."""
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(f"ids must be 1-D, got shape {tuple(ids.shape)}")
            ids = ids.tolist()
        out = []
        for i in ids:
            i = check_int("ids[i]", i, minimum=0, maximum=self.vocab_size - 1)
            if i == self.eos_id:
                break
            if i in (self.pad_id, self.bos_id):
                continue
            out.append("?" if i == self.unk_id else self.itos[i])
        return "".join(out)


#: The same tokenizer under the name other libraries use.
Vocab = CharTokenizer


# --- pre-tokenization -----------------------------------------------------------------------------

#: GPT-2's split (Radford et al. 2019) in Python's ``re`` dialect: English contractions, letters
#: with an optional leading space, digits likewise, other symbols likewise, then whitespace
#: (a run of spaces before a word gives its last space to the word). ``[^\W\d_]`` is "a letter"
#: (word characters that are neither digits nor ``_``); ``_`` joins the symbols.
SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"""
_SPLIT = re.compile(SPLIT_PATTERN)


def pre_tokenize(text: str) -> list[str]:
    """Cut ``text`` into the chunks BPE merges within: ``"".join(pre_tokenize(t)) == t``.

    >>> pre_tokenize("To be, or not to be:  that's")
    ['To', ' be', ',', ' or', ' not', ' to', ' be', ':', ' ', ' that', "'s"]
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {describe(text)}")
    return _SPLIT.findall(text)


# --- words ----------------------------------------------------------------------------------------

class WordTokenizer:
    """One id per pre-tokenized chunk (:func:`pre_tokenize`) seen in training; ``<unk>`` = 0
    for the rest.

    Ids: ``<unk>`` is 0, then the kept chunks from most to least frequent (ties in sorted
    order). ``decode`` writes ``<unk>`` where an unknown chunk was, so only text without
    unknown chunks round-trips.
    """

    UNK = "<unk>"
    unk_id = 0

    def __init__(self, words: Sequence[str]):
        for w in words:
            if not isinstance(w, str) or not w:
                raise ValueError(f"words must be non-empty strings, got {w!r}")
        if len(set(words)) != len(words):
            raise ValueError("words must not repeat")
        self.itos: list[str] = [self.UNK, *words]
        self.stoi: dict[str, int] = {w: i for i, w in enumerate(self.itos) if i > 0}

    @classmethod
    def train(cls, text: str, vocab_size: int | None = None) -> WordTokenizer:
        """Keep the ``vocab_size - 1`` most frequent chunks of ``text`` (all if None)."""
        if vocab_size is not None:
            vocab_size = check_int("vocab_size", vocab_size, minimum=2)
        counts = Counter(pre_tokenize(text))
        ranked = sorted(counts, key=lambda w: (-counts[w], w))
        return cls(ranked if vocab_size is None else ranked[:vocab_size - 1])

    @property
    def vocab_size(self) -> int:
        """How many ids the tokenizer uses, ``<unk>`` included."""
        return len(self.itos)

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        return f"WordTokenizer(vocab_size={self.vocab_size})"

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``'s chunks; unknown chunks become ``unk_id``."""
        return [self.stoi.get(w, self.unk_id) for w in pre_tokenize(text)]

    def decode(self, ids: Iterable[int] | torch.Tensor) -> str:
        """The text of ``ids`` (``<unk>`` written as is)."""
        return "".join(self.itos[i] for i in _check_ids(ids, self.vocab_size))


def _check_ids(ids: object, vocab_size: int) -> list[int]:
    """A list of ids from a 1-D tensor or an iterable of ints, each in ``[0, vocab_size)``."""
    if isinstance(ids, torch.Tensor):
        if ids.dim() != 1 or ids.is_floating_point():
            raise ValueError(f"ids must be a 1-D integer tensor, got {describe(ids)}")
        ids = ids.tolist()
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        raise TypeError(f"ids must be a list of ints or a 1-D tensor, got {describe(ids)}")
    ids = list(ids)
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"ids must contain ints, got {describe(i)}")
        if not 0 <= i < vocab_size:
            raise ValueError(f"ids contains token id {i}, outside the vocabulary [0, {vocab_size})")
    return ids


# --- byte-pair encoding ---------------------------------------------------------------------------

def merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every occurrence of ``pair`` in ``ids``, left to right, by ``new_id``.

    >>> merge([5, 6, 6, 5, 6], (5, 6), 256)
    [256, 6, 256]
    """
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def train_merges(chunk_counts: dict[str, int], n_merges: int) -> list[tuple[int, int]]:
    """The first ``n_merges`` merges of byte-pair encoding over ``{chunk: count}``.

    Each step merges the pair of adjacent symbols that occurs most often (ties: the smallest
    pair) into the symbol ``256 + step``. Instead of recounting every pair after each merge,
    the counts are kept up to date: only the chunks that contain the merged pair change, so
    only their pairs are recounted, and a heap finds the most frequent pair (entries whose
    count went stale are skipped when they surface). Stops early if no pair is left.
    """
    words = [list(chunk.encode("utf-8")) for chunk in chunk_counts]  # each chunk as byte ids
    counts = list(chunk_counts.values())
    pair_counts: Counter[tuple[int, int]] = Counter()
    where: defaultdict[tuple[int, int], set[int]] = defaultdict(set)  # pair -> chunks with it
    for i, (word, count) in enumerate(zip(words, counts)):
        for pair in pairwise(word):
            pair_counts[pair] += count
            where[pair].add(i)
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)
    merges: list[tuple[int, int]] = []
    while heap and len(merges) < n_merges:
        count, pair = heapq.heappop(heap)
        if -count != pair_counts[pair] or pair_counts[pair] <= 0:
            continue                                     # a stale entry
        new_id = 256 + len(merges)
        merges.append(pair)
        touched = set()
        for i in where.pop(pair):
            old = words[i]
            new = words[i] = merge(old, pair, new_id)
            for p in pairwise(old):                  # the chunk's old pairs leave ...
                pair_counts[p] -= counts[i]
                touched.add(p)
            for p in pairwise(new):                  # ... and its new pairs arrive
                pair_counts[p] += counts[i]
                where[p].add(i)
                touched.add(p)
        for p in touched:
            if pair_counts[p] > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
    return merges


class BPETokenizer:
    """Byte-level byte-pair encoding (Sennrich et al. 2016; GPT-2's byte-level variant).

    Ids 0-255 are the bytes of UTF-8; id ``256 + k`` is the ``k``-th merge, the concatenation
    of the two tokens of ``merges[k]``. Encoding cuts the text with :func:`pre_tokenize`, turns
    each chunk into bytes and applies the merges in the order they were learned; decoding
    joins the tokens' bytes. ``decode(encode(s)) == s`` for every string ``s``.

    Args:
        merges: ``(left id, right id)`` pairs in training order (from :meth:`train`).
    """

    FORMAT = "minitransformer-bpe-v1"

    def __init__(self, merges: Sequence[tuple[int, int]]):
        self.merges: list[tuple[int, int]] = []
        self.vocab: list[bytes] = [bytes([b]) for b in range(256)]  # id -> its bytes
        for k, pair in enumerate(merges):
            if (not isinstance(pair, (tuple, list)) or len(pair) != 2
                    or not all(isinstance(i, int) and 0 <= i < 256 + k for i in pair)):
                raise ValueError(f"merges[{k}] must be a pair of ids below {256 + k}, got {pair!r}")
            self.merges.append((pair[0], pair[1]))
            self.vocab.append(self.vocab[pair[0]] + self.vocab[pair[1]])
        self.ranks = {pair: k for k, pair in enumerate(self.merges)}  # pair -> when learned
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def train(cls, text: str, vocab_size: int) -> BPETokenizer:
        """Learn ``vocab_size - 256`` merges from ``text`` (fewer if it runs out of pairs).

        Deterministic: the same text and size always give the same merges.
        """
        vocab_size = check_int("vocab_size", vocab_size, minimum=256)
        chunks = Counter(pre_tokenize(text))
        return cls(train_merges(dict(sorted(chunks.items())), vocab_size - 256))

    @property
    def vocab_size(self) -> int:
        """How many ids the tokenizer uses (256 bytes plus one per merge)."""
        return len(self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size})"

    def token(self, i: int) -> str:
        """Token ``i`` as text (bytes that are not valid UTF-8 on their own shown as ``\\ufffd``)."""
        i = check_int("i", i, minimum=0, maximum=self.vocab_size - 1)
        return self.vocab[i].decode("utf-8", errors="replace")

    def _encode_chunk(self, chunk: str) -> list[int]:
        ids = list(chunk.encode("utf-8"))
        while len(ids) >= 2:
            # the earliest-learned merge among the adjacent pairs, as in training
            pair = min(pairwise(ids), key=lambda p: self.ranks.get(p, len(self.ranks)))
            if pair not in self.ranks:
                break
            ids = merge(ids, pair, 256 + self.ranks[pair])
        return ids

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``."""
        ids: list[int] = []
        for chunk in pre_tokenize(text):
            if chunk not in self._cache:
                if len(self._cache) >= 100_000:  # bound the memory of long runs
                    self._cache.clear()
                self._cache[chunk] = self._encode_chunk(chunk)
            ids.extend(self._cache[chunk])
        return ids

    def decode(self, ids: Iterable[int] | torch.Tensor) -> str:
        """The text of ``ids``; byte sequences that are not valid UTF-8 (possible only for ids
        that ``encode`` did not produce) become ``\\ufffd``."""
        data = b"".join(self.vocab[i] for i in _check_ids(ids, self.vocab_size))
        return data.decode("utf-8", errors="replace")

    def save(self, path: str | Path) -> None:
        """Write the merges (and the split pattern they assume) to a JSON file."""
        payload = {"format": self.FORMAT, "pattern": SPLIT_PATTERN,
                   "merges": [list(pair) for pair in self.merges]}
        Path(path).write_text(json.dumps(payload) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> BPETokenizer:
        """Read a tokenizer written by :meth:`save`; a foreign or damaged file raises
        ``ValueError`` naming the path."""
        try:
            payload = json.loads(Path(path).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"cannot read tokenizer {path}: not JSON ({error})") from None
        if not isinstance(payload, dict) or payload.get("format") != cls.FORMAT:
            raise ValueError(f"{path} is not a minitransformer BPE tokenizer "
                             f"(missing or unknown 'format' entry)")
        if payload.get("pattern") != SPLIT_PATTERN:
            raise ValueError(f"{path} was trained with another pre-tokenization pattern")
        merges = payload.get("merges")
        if not isinstance(merges, list):
            raise ValueError(f"{path}: 'merges' must be a list of id pairs")
        return cls([tuple(pair) if isinstance(pair, list) else pair for pair in merges])
