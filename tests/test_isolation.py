"""Reading under limits: the container checks, the worker process and its replacement, config."""

from __future__ import annotations

import os
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from kkmp_sheets import config
from kkmp_sheets.config import ReadLimits
from kkmp_sheets.errors import ConfigError
from kkmp_sheets.sources.base import ReadFailure
from kkmp_sheets.sources.isolation import ReaderPool, ReaderProcess
from kkmp_sheets.sources.limits import TooLarge, check_container, declared_size
from kkmp_sheets.testing import hostile


def _workbook(path: Path, rows: int = 3, columns: int = 2) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Anggota"
    for r in range(1, rows + 1):
        sheet.append([f"r{r}c{c}" for c in range(1, columns + 1)])
    book.save(path)
    return path


@pytest.fixture
def reader():
    process = ReaderProcess(ReadLimits(seconds=20))
    yield process
    process.close()


@pytest.mark.parametrize(
    ("ref", "size"),
    [
        ("A1", (1, 1)),
        ("A1:B3", (3, 2)),
        ("A1:XFD1048576", (1_048_576, 16_384)),
        ("$C$2:$D$5", (4, 2)),
    ],
)
def test_declared_size_reads_range_references(ref, size):
    assert declared_size(ref) == size


def test_a_plain_workbook_passes_every_check_and_reads_from_a1(tmp_path, reader):
    path = _workbook(tmp_path / "ok.xlsx")
    check_container(path, ReadLimits())
    assert reader.read(path)["Anggota"] == [["r1c1", "r1c2"], ["r2c1", "r2c2"], ["r3c1", "r3c2"]]


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        (ReadLimits(max_rows=2), "baris, batasnya 2"),
        (ReadLimits(max_columns=1), "kolom, batasnya 1"),
        (ReadLimits(max_cells=5), "batasnya 5"),
        (ReadLimits(max_entries=3), "bagian, batasnya 3"),
    ],
)
def test_each_limit_is_enforced_with_words_for_staff(tmp_path, reader, limits, words):
    path = _workbook(tmp_path / "book.xlsx")
    reader.limits = replace(limits, seconds=20)
    with pytest.raises(ReadFailure) as caught:
        reader.read(path)
    assert caught.value.code == "workbook-too-large"
    assert words in caught.value.detail


def test_uncompressed_size_and_ratio_come_from_the_zip_directory(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/sharedStrings.xml", b"A" * (8 * 1024 * 1024))
    with pytest.raises(TooLarge, match="dimampatkan"):
        check_container(path, ReadLimits())
    with pytest.raises(TooLarge, match="8 MB setelah dibuka, batasnya 4 MB"):
        check_container(path, ReadLimits(max_uncompressed_mb=4))


def test_a_declared_dimension_is_refused_before_the_sheet_is_parsed(tmp_path):
    base = _workbook(tmp_path / "base.xlsx")
    secret = tmp_path / "secret.txt"
    path = hostile.write_case("dimension-whole-grid", tmp_path, base=base, secret=secret)
    with pytest.raises(TooLarge, match=r"1\.048\.576 baris"):
        check_container(path, ReadLimits())


def test_a_reader_killed_by_its_memory_cap_is_replaced(tmp_path, reader):
    base = _workbook(tmp_path / "base.xlsx")
    corners = hostile.write_case("sparse-corners", tmp_path, base=base, secret=tmp_path / "s")
    with pytest.raises(ReadFailure) as caught:
        reader.read(corners)
    assert caught.value.code == "workbook-read-stopped"
    assert "memori" in caught.value.detail
    assert reader.restarts == 1
    assert reader.read(base)["Anggota"][0] == ["r1c1", "r1c2"]  # the next one is read as usual


def test_a_read_that_never_ends_is_stopped_at_its_time_limit(tmp_path, reader):
    fifo = tmp_path / "never.xlsx"
    os.mkfifo(fifo)  # opening it waits for a writer that never comes
    reader.limits = replace(reader.limits, seconds=2)
    with pytest.raises(ReadFailure) as caught:
        reader.read(fifo)
    assert caught.value.code == "workbook-read-stopped"
    assert "2 detik" in caught.value.detail
    assert reader.read(_workbook(tmp_path / "after.xlsx"))["Anggota"]


def test_limits_come_from_the_config_with_defaults(tmp_path):
    text = (
        '[city]\nname = "Kota"\nkode_wilayah = "31.73"\n'
        '[source]\nkind = "local"\nregistry = "r.csv"\n[output]\nkind = "local"\n'
    )
    path = tmp_path / "city.toml"
    path.write_text(text, encoding="utf-8")
    assert config.load(path).limits == ReadLimits()
    path.write_text(text + "[limits]\nmax_rows = 5000\nseconds = 7.5\n", encoding="utf-8")
    assert config.load(path).limits == ReadLimits(max_rows=5000, seconds=7.5)
    path.write_text(text + "[limits]\nmemory_mb = 64\nmax_cells = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    assert "[limits] memory_mb = 64" in str(caught.value)
    assert "[limits] max_cells = 0" in str(caught.value)


def test_a_worker_that_ended_between_reads_does_not_blame_the_next_workbook(tmp_path, reader):
    path = _workbook(tmp_path / "book.xlsx")
    assert reader.read(path)
    worker = reader._process
    assert worker is not None
    worker.kill()  # e.g. the machine's OOM killer, while no workbook was being read
    worker.join()
    assert reader.read(path)["Anggota"][0] == ["r1c1", "r1c2"]


def test_a_pool_answers_each_workbook_and_a_dying_worker_fails_only_its_own(tmp_path):
    books = [_workbook(tmp_path / f"book{n}.xlsx", rows=n) for n in range(1, 6)]
    corners = hostile.write_case("sparse-corners", tmp_path, base=books[0], secret=tmp_path / "s")
    order = [books[0], corners, *books[1:]]
    with ReaderPool(ReadLimits(seconds=20), 2) as pool:
        futures = [pool.submit(path) for path in order]  # all at once: both workers busy
        answers = []
        for future in futures:
            try:
                answers.append(len(future.result()["Anggota"]))
            except ReadFailure as failure:
                answers.append(failure.code)
        assert pool.restarts == 1
        processes = {p._process.pid for p in pool._all if p._process is not None}
    assert answers == [1, "workbook-read-stopped", 2, 3, 4, 5]
    assert 1 <= len(processes) <= 2  # the dead one replaced when next needed; never more
    for pid in processes:  # close ended them
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_workers_come_from_the_config_one_per_usable_core_by_default(tmp_path):
    text = (
        '[city]\nname = "Kota"\nkode_wilayah = "31.73"\n'
        '[source]\nkind = "local"\nregistry = "r.csv"\n[output]\nkind = "local"\n'
    )
    path = tmp_path / "city.toml"
    path.write_text(text, encoding="utf-8")
    assert config.load(path).workers == len(os.sched_getaffinity(0))
    path.write_text(text + "[performance]\nworkers = 1\n", encoding="utf-8")
    assert config.load(path).workers == 1
    path.write_text(text + "[performance]\nworkers = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[performance\] workers = -1"):
        config.load(path)
