"""Tests for the date-translation task, the character tokenizer and batching (data.py, ch. 5-6)."""

import datetime as dt
import re

import pytest
import torch

import minitransformer as mt
from minitransformer import data

# How datetime reads each format back (ordinal suffixes removed first; two-digit years handled
# by the task's own 1950-2049 window rather than strptime's 1969 pivot).
STRPTIME = {
    "short_weekday": "%a %d %B %Y",
    "slash_2digit": "%d/%m/%y",
    "us_ordinal": "%B %d, %Y",
    "day_abbrev": "%d %b %Y",
    "iso_unpadded": "%Y-%m-%d",
    "the_ordinal_of": "the %d of %B %Y",
    "dotted": "%d.%m.%Y",
    "upper": "%B %d %Y",
    "long_weekday": "%A, %B %d, %Y",
    "lower_2digit": "%d %B %y",
    "us_abbrev": "%b %d, %Y",
    "dash_abbrev": "%d-%b-%Y",
    "weekday_ordinal": "%A %d %B %Y",
    "slash_full": "%d/%m/%Y",
}

SAMPLE_DATES = [dt.date(1950, 1, 1), dt.date(1968, 12, 31), dt.date(1987, 3, 3),
                dt.date(2000, 2, 29), dt.date(2011, 11, 11), dt.date(2022, 8, 22),
                dt.date(2049, 12, 31), dt.date(1972, 9, 13)]


def parse_back(text: str, style: str) -> dt.date:
    text = re.sub(r"(\d+)(st|nd|rd|th)\b", r"\1", text)
    parsed = dt.datetime.strptime(text, STRPTIME[style]).date()
    if "%y" in STRPTIME[style]:  # map into 1950-2049
        year = 1900 + parsed.year % 100 if parsed.year % 100 >= 50 else 2000 + parsed.year % 100
        parsed = parsed.replace(year=year)
    return parsed


def test_every_format_has_a_parser_and_there_are_at_least_ten():
    assert set(STRPTIME) == set(data.DATE_FORMATS)
    assert len(data.DATE_FORMATS) >= 10


@pytest.mark.parametrize("style", sorted(STRPTIME))
def test_every_format_parses_back_to_the_same_date_with_datetime(style):
    for d in SAMPLE_DATES:
        text = data.format_date(d, style)
        assert parse_back(text, style) == d, (style, text)


@pytest.mark.parametrize("style", ["short_weekday", "long_weekday", "weekday_ordinal"])
def test_weekday_names_are_the_true_weekdays(style):
    # strptime ignores %a/%A when building the date, so check the names directly
    for d in SAMPLE_DATES:
        text = data.format_date(d, style)
        assert text.startswith(d.strftime("%A")[:3]), text
        assert d.strftime("%A") in text or style == "short_weekday"


def test_known_example_strings():
    d = dt.date(1987, 3, 3)
    assert data.format_date(d, "short_weekday") == "Tue 3 March 1987"
    assert data.format_date(d, "slash_2digit") == "03/03/87"
    assert data.format_date(d, "us_ordinal") == "March 3rd, 1987"
    assert data.format_date(d, "the_ordinal_of") == "the 3rd of March 1987"
    assert data.format_date(dt.date(2011, 11, 11), "us_ordinal") == "November 11th, 2011"
    assert data.format_date(dt.date(2022, 8, 22), "weekday_ordinal") == "Monday 22nd August 2022"


def test_dataset_targets_are_iso_dates_of_the_sources():
    styles = sorted(data.DATE_FORMATS)
    pairs = data.date_dataset(300, seed=3)
    for src, tgt in pairs:
        d = dt.date.fromisoformat(tgt)
        assert 1950 <= d.year <= 2049
        assert src in {data.format_date(d, s) for s in styles}


def test_dataset_uses_many_formats_and_distinct_dates():
    pairs = data.date_dataset(500, seed=0)
    assert len({t for _, t in pairs}) == 500
    lengths = {len(s) for s, _ in pairs}
    assert min(lengths) <= 8 and max(lengths) >= 20


def test_dataset_is_deterministic_in_its_seed():
    assert data.date_dataset(50, seed=7) == data.date_dataset(50, seed=7)
    assert data.date_dataset(50, seed=7) != data.date_dataset(50, seed=8)


def test_splits_are_disjoint_in_dates_and_sizes_are_exact():
    train, valid, test = data.date_splits(2000, 300, 300, seed=1)
    assert (len(train), len(valid), len(test)) == (2000, 300, 300)
    dates = [{t for _, t in split} for split in (train, valid, test)]
    assert not dates[0] & dates[1] and not dates[0] & dates[2] and not dates[1] & dates[2]
    sources = [{s for s, _ in split} for split in (train, valid, test)]
    assert not sources[0] & sources[2]
    assert data.date_splits(2000, 300, 300, seed=1) == (train, valid, test)


def test_splits_refuse_more_dates_than_the_century_has():
    with pytest.raises(ValueError, match="n_train"):
        data.date_splits(36000, 500, 100)


def test_tokenizer_special_ids_and_deterministic_order():
    tok = data.date_tokenizer()
    assert (tok.pad_id, tok.bos_id, tok.eos_id, tok.unk_id) == (0, 1, 2, 3)
    assert tok.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert tok.itos[4:] == sorted(tok.itos[4:])
    assert data.date_tokenizer().itos == tok.itos
    assert data.CharTokenizer.from_texts(["ba", "c"]).itos[4:] == ["a", "b", "c"]
    assert data.Vocab is data.CharTokenizer


def test_tokenizer_round_trips_every_source_and_target():
    tok = data.date_tokenizer()
    for src, tgt in data.date_dataset(400, seed=2):
        assert tok.decode(tok.encode(src)) == src
        assert tok.decode(tok.encode(tgt, bos=True, eos=True)) == tgt
        assert tok.unk_id not in tok.encode(src)


def test_decode_stops_at_eos_skips_pad_and_marks_unknown():
    tok = data.CharTokenizer.from_texts(["ab"])
    ids = [*tok.encode("ab", bos=True, eos=True), tok.stoi["a"], 0]
    assert tok.decode(ids) == "ab"
    assert tok.encode("a!b") == [tok.stoi["a"], tok.unk_id, tok.stoi["b"]]
    assert tok.decode(tok.encode("a!b")) == "a?b"
    assert tok.decode(torch.tensor([0, 4, 5, 0])) == "ab"


def test_make_batches_shapes_shift_and_padding():
    tok = data.date_tokenizer()
    pairs = data.date_dataset(10, seed=0)
    batches = data.make_batches(pairs, 4)
    assert [b.src.shape[0] for b in batches] == [4, 4, 2]
    for b in batches:
        assert b.src.dtype == b.tgt_in.dtype == b.tgt_out.dtype == torch.long
        assert b.tgt_in.shape == b.tgt_out.shape
        assert (b.tgt_in[:, 0] == tok.bos_id).all()
        assert torch.equal(b.tgt_in[:, 1:], b.tgt_out[:, :-1])   # teacher forcing: shifted by one
        assert (b.tgt_out[:, -1] == tok.eos_id).all()             # ISO targets all have 10 chars
    first = batches[0]
    for i, (src, _) in enumerate(pairs[:4]):
        assert tok.decode(first.src[i]) == src
        assert (first.src[i, len(src):] == 0).all()


def test_make_batches_shuffle_is_a_seeded_permutation():
    pairs = data.date_dataset(40, seed=0)
    tok = data.date_tokenizer()
    a = data.make_batches(pairs, 8, shuffle=True, seed=1)
    b = data.make_batches(pairs, 8, shuffle=True, seed=1)
    c = data.make_batches(pairs, 8, shuffle=True, seed=2)
    assert all(torch.equal(x.src, y.src) for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x.src, y.src) for x, y in zip(a, c, strict=True))
    seen = sorted(tok.decode(row) for batch in a for row in batch.src)
    assert seen == sorted(s for s, _ in pairs)


def test_pad_batch_right_pads():
    out = data.pad_batch([[5, 6, 7], [8], []], pad_id=0)
    assert out.tolist() == [[5, 6, 7], [8, 0, 0], [0, 0, 0]]


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="n"):
        data.date_dataset(0)
    with pytest.raises(TypeError, match="seed"):
        data.date_dataset(5, seed=1.5)
    with pytest.raises(ValueError, match="style"):
        data.format_date(dt.date(2000, 1, 1), "klingon")
    with pytest.raises(TypeError, match="date"):
        data.format_date("2000-01-01", "dotted")
    with pytest.raises(ValueError, match="batch_size"):
        data.make_batches(data.date_dataset(3), 0)
    with pytest.raises(ValueError, match="pairs"):
        data.make_batches([], 2)
    with pytest.raises(ValueError, match="seqs"):
        data.pad_batch([])
    with pytest.raises(TypeError, match="text"):
        data.date_tokenizer().encode(12)
    with pytest.raises(ValueError, match="ids"):
        data.date_tokenizer().decode([1000])
    with pytest.raises(TypeError, match="texts"):
        data.CharTokenizer.from_texts("abc")


def test_names_are_exported_at_top_level():
    assert mt.CharTokenizer is data.CharTokenizer
    assert mt.date_splits is data.date_splits


@pytest.mark.parametrize("style", sorted(STRPTIME))
def test_date_field_spans_find_the_written_year_month_and_day(style):
    for d in [*SAMPLE_DATES, dt.date(2004, 5, 1), dt.date(1999, 10, 2), dt.date(2045, 4, 23)]:
        text = data.format_date(d, style)
        spans = mt.date_field_spans(text)
        year, month, day = (text[slice(*spans[k])] for k in ("year", "month", "day"))
        assert int(year) == (d.year if len(year) == 4 else d.year % 100), (text, spans)
        name = data.MONTHS[d.month - 1]
        assert (int(month) == d.month if month.isdigit()
                else month.capitalize() in (name, name[:3])), (text, spans)
        assert int(re.sub(r"(st|nd|rd|th)$", "", day)) == d.day, (text, spans)
        assert not text[spans["day"][1]:spans["day"][1] + 1].isalpha(), (text, spans)
        assert all(spans[a][1] <= spans[b][0] or spans[b][1] <= spans[a][0]
                   for a in spans for b in spans if a != b), ("spans overlap", text, spans)


def test_date_field_spans_keep_the_ordinal_suffix_with_the_day():
    text = "the 3rd of March 1987"
    assert mt.date_field_spans(text) == {"year": (17, 21), "month": (11, 16), "day": (4, 7)}


def test_date_field_spans_reject_text_that_is_not_a_date():
    with pytest.raises(ValueError, match="text must be a date"):
        mt.date_field_spans("hello world")
    with pytest.raises(TypeError, match="text must be a str"):
        mt.date_field_spans(1987)
