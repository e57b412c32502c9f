"""Tests for minitransformer/tokenizers.py: characters, the pre-tokenizer, words and byte-level
BPE."""

import functools
import json

import pytest
import tokenizers  # Hugging Face's, a test-only dependency pinned in requirements.txt
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minitransformer as mt
from minitransformer.tokenizers import merge, pre_tokenize

SAMPLE = ("To be, or not to be: that is the question. Naïve café, 東京 and 3.14 -- "
          "what's done can't be undone!\n\n  HAMLET.\nI'll speak to it.\n") * 20


# --- characters -------------------------------------------------------------------------------

def test_char_tokenizer_puts_special_ids_first_then_characters_in_sorted_order():
    tok = mt.CharTokenizer.from_texts(["ba", "c"])
    assert (tok.pad_id, tok.bos_id, tok.eos_id, tok.unk_id) == (0, 1, 2, 3)
    assert tok.itos == ["<pad>", "<bos>", "<eos>", "<unk>", "a", "b", "c"]
    assert mt.CharTokenizer.from_texts(["cab"]).itos == tok.itos
    assert mt.Vocab is mt.CharTokenizer is mt.tokenizers.CharTokenizer


def test_char_tokenizer_decode_stops_at_eos_skips_pad_and_marks_unknown():
    tok = mt.CharTokenizer.from_texts(["ab"])
    ids = [*tok.encode("ab", bos=True, eos=True), tok.stoi["a"], 0]
    assert tok.decode(ids) == "ab"
    assert tok.encode("a!b") == [tok.stoi["a"], tok.unk_id, tok.stoi["b"]]
    assert tok.decode(tok.encode("a!b")) == "a?b"
    assert tok.decode(torch.tensor([0, 4, 5, 0])) == "ab"


def test_char_tokenizer_rejects_bad_arguments_naming_them():
    tok = mt.CharTokenizer.from_texts(["ab"])
    with pytest.raises(TypeError, match="text"):
        tok.encode(12)
    with pytest.raises(ValueError, match="ids"):
        tok.decode([1000])
    with pytest.raises(TypeError, match="texts"):
        mt.CharTokenizer.from_texts("abc")
    with pytest.raises(ValueError, match="chars"):
        mt.CharTokenizer(["ab"])



@functools.lru_cache(maxsize=1)
def sample_bpe():
    return mt.BPETokenizer.train(SAMPLE + mt.data.shakespeare("valid")[:20_000], 400)


# --- pre-tokenization -----------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.text())
def test_pre_tokenize_chunks_join_back_to_the_text(text):
    assert "".join(pre_tokenize(text)) == text


def test_pre_tokenize_splits_like_gpt2_words_with_their_leading_space():
    assert pre_tokenize("Hello  world, it's 2024!\n") == [
        "Hello", " ", " world", ",", " it", "'s", " 2024", "!", "\n"]


# --- words ----------------------------------------------------------------------------------------

def test_word_tokenizer_round_trips_known_text_and_maps_unseen_chunks_to_unk():
    tok = mt.WordTokenizer.train("the cat sat on the mat. the end.")
    ids = tok.encode("the cat sat on the mat.")
    assert tok.decode(ids) == "the cat sat on the mat."
    assert len(ids) == 7
    assert tok.encode("the dog") == [tok.stoi["the"], tok.unk_id]
    assert tok.decode(tok.encode("the dog")) == "the<unk>"


def test_word_tokenizer_keeps_the_most_frequent_chunks_first():
    tok = mt.WordTokenizer.train("a b b c c c", vocab_size=3)
    assert tok.itos == ["<unk>", " c", " b"]
    assert tok.vocab_size == len(tok) == 3


def test_word_tokenizer_rejects_bad_arguments_naming_them():
    with pytest.raises(ValueError, match="vocab_size"):
        mt.WordTokenizer.train("a b", vocab_size=1)
    with pytest.raises(TypeError, match="text"):
        mt.WordTokenizer.train(["a b"])
    with pytest.raises(ValueError, match="ids"):
        mt.WordTokenizer.train("a b").decode([0, 7])


# --- byte-pair encoding ---------------------------------------------------------------------------

def test_merge_replaces_non_overlapping_occurrences_left_to_right():
    assert merge([5, 6, 6, 5, 6], (5, 6), 256) == [256, 6, 256]
    assert merge([7, 7, 7], (7, 7), 300) == [300, 7]
    assert merge([], (1, 2), 256) == []


def test_bpe_learns_the_textbook_merges_of_aaabdaaabac():
    # Wikipedia's example: aa -> Z, then ab -> Y (ties go to the smaller pair), then ZY -> X
    tok = mt.BPETokenizer.train("aaabdaaabac", 259)
    a, b, c, d = (ord(ch) for ch in "abcd")
    assert tok.merges == [(a, a), (a, b), (256, 257)]
    assert tok.encode("aaabdaaabac") == [258, d, 258, a, c]
    assert tok.token(258) == "aaab"


def test_bpe_same_text_and_size_give_the_same_merges():
    text = mt.data.shakespeare("valid")[:50_000]
    first = mt.BPETokenizer.train(text, 320)
    second = mt.BPETokenizer.train(text, 320)
    assert first.merges == second.merges
    assert first.vocab_size == 320


def test_bpe_stops_early_when_the_text_runs_out_of_pairs():
    tok = mt.BPETokenizer.train("ab ab", 1000)
    assert tok.vocab_size < 1000
    assert tok.encode("ab ab") == [256, 257]      # "ab", then " ab" = " " + "ab"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_bpe_decode_inverts_encode_for_any_unicode_string(text):
    tok = sample_bpe()
    ids = tok.encode(text)
    assert all(0 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == text


def test_bpe_encode_shortens_the_training_text_and_decode_restores_it():
    tok = sample_bpe()
    ids = tok.encode(SAMPLE)
    assert len(ids) < 0.5 * len(SAMPLE.encode("utf-8"))
    assert tok.decode(torch.tensor(ids)) == SAMPLE


def test_bpe_save_and_load_give_the_same_tokenizer(tmp_path):
    tok = sample_bpe()
    tok.save(tmp_path / "bpe.json")
    loaded = mt.BPETokenizer.load(tmp_path / "bpe.json")
    assert loaded.merges == tok.merges
    assert loaded.encode(SAMPLE) == tok.encode(SAMPLE)


def test_bpe_load_rejects_foreign_or_damaged_files(tmp_path):
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"junk\.json"):
        mt.BPETokenizer.load(tmp_path / "junk.json")
    (tmp_path / "other.json").write_text('{"format": "something-else"}')
    with pytest.raises(ValueError, match="not a minitransformer BPE tokenizer"):
        mt.BPETokenizer.load(tmp_path / "other.json")
    (tmp_path / "bad.json").write_text(json.dumps({
        "format": "minitransformer-bpe-v1", "pattern": mt.tokenizers.SPLIT_PATTERN,
        "merges": [[1, 999]]}))
    with pytest.raises(ValueError, match=r"merges\[0\]"):
        mt.BPETokenizer.load(tmp_path / "bad.json")


def test_bpe_rejects_bad_arguments_naming_them():
    with pytest.raises(ValueError, match="vocab_size must be >= 256"):
        mt.BPETokenizer.train("abc", 100)
    with pytest.raises(TypeError, match="vocab_size"):
        mt.BPETokenizer.train("abc", 300.0)
    with pytest.raises(TypeError, match="text must be a str"):
        mt.BPETokenizer.train(b"abc", 300)
    tok = sample_bpe()
    with pytest.raises(ValueError, match=r"ids contains token id 400, outside .*\[0, 400\)"):
        tok.decode([1, 400])
    with pytest.raises(ValueError, match="ids contains token id -1"):
        tok.decode([-1])
    with pytest.raises(TypeError, match="ids"):
        tok.decode("abc")
    with pytest.raises(TypeError, match="text must be a str"):
        tok.encode(None)


def test_bpe_tokens_per_character_within_10_percent_of_the_tokenizers_package():
    """The same corpus and vocabulary size through Hugging Face's byte-level BPE."""
    train = mt.data.shakespeare("train")[:300_000]
    valid = mt.data.shakespeare("valid")[:60_000]
    ours = mt.BPETokenizer.train(train, 600)
    hf = tokenizers.Tokenizer(tokenizers.models.BPE())
    hf.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=600, show_progress=False,
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet())
    hf.train_from_iterator([train], trainer)
    assert hf.get_vocab_size() == ours.vocab_size == 600
    ours_per_char = len(ours.encode(valid)) / len(valid)
    theirs_per_char = len(hf.encode(valid).ids) / len(valid)
    assert abs(ours_per_char / theirs_per_char - 1) < 0.10
    assert ours_per_char < 0.6          # and the merges do compress: ~2 characters per token
