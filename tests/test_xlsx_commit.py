"""Putting a Hasil Pemeriksaan write in place: no debris beside the workbook, no silent overwrite
of a save by staff, and a crash at any step settled by the next run (`xlsx_patch.commit`,
`staging`, `swap`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import stat
from pathlib import Path

import openpyxl
import pytest

from kkmp_sheets import crashpoints
from kkmp_sheets.sources import xlsx_patch
from kkmp_sheets.sources.xlsx_patch import (
    PatchError,
    WriteBatch,
    commit,
    read_tab,
    recover,
    staging,
    swap,
    write_tab,
)

TAB = "Hasil Pemeriksaan"
RESULT = [
    ["Diperiksa", dt.datetime(2026, 1, 29, 8, 30)],
    [],
    ["Tingkat", "Tab", "Baris", "Masalah"],
    ["Galat", "Anggota", 4, "NIK harus 16 digit"],
]
RESULT_2 = [*RESULT, ["Peringatan", "Stok", 7, "Harga Beli kosong"]]


def make_book(path: Path, member: str = "A-001") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Anggota"
    ws.append(["No Anggota", "Nama", "Tanggal Masuk"])
    ws.append([member, "Siti Contoh", dt.date(2025, 8, 1)])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def staff_save(book: Path, member: str) -> bytes:
    """Save the way Excel and LibreOffice do: a new file renamed over the workbook."""
    other = make_book(book.with_name("saving.tmp.xlsx"), member)
    data = other.read_bytes()
    os.replace(other, book)
    return data


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def city(tmp_path: Path) -> tuple[Path, Path]:
    """(a workbook in a folder of its own, the service's data folder)"""
    return make_book(tmp_path / "koperasi" / "kkmp.xlsx"), tmp_path / "data"


def test_nothing_is_ever_beside_the_workbook_and_staging_is_emptied(
    city: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    book, data = city
    seen: list[tuple[list[str], list[str]]] = []
    real = commit.exchange

    def watching(a: Path, b: Path) -> bool:
        seen.append((listing(book.parent), listing(staging.staging_folder(data))))
        return real(a, b)

    monkeypatch.setattr(commit, "exchange", watching)
    assert write_tab(book, TAB, RESULT, work_dir=data)
    beside, staged = seen[0]
    assert beside == ["kkmp.xlsx"]
    assert len(staged) == 2 and {Path(n).suffix for n in staged} == {".json", ".xlsx"}
    assert listing(book.parent) == ["kkmp.xlsx"]
    assert listing(staging.staging_folder(data)) == []
    assert (read_tab(book, TAB) or [])[2] == RESULT[2]
    assert read_tab(book, "Anggota")[1][0] == "A-001"


def test_the_journal_holds_no_personal_data(
    city: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    book, data = city
    journals: list[str] = []
    real = commit.exchange

    def reading_journal(a: Path, b: Path) -> bool:
        journals.extend(j.read_text() for j in staging.staging_folder(data).glob("*.json"))
        return real(a, b)

    monkeypatch.setattr(commit, "exchange", reading_journal)
    write_tab(book, TAB, RESULT, work_dir=data)
    assert journals and "Siti" not in journals[0] and str(book) in journals[0]


def test_staged_file_is_private_while_written(city: tuple[Path, Path]) -> None:
    book, data = city
    os.chmod(book, 0o644)
    modes: list[int] = []
    real = commit.exchange

    def checking(staged: Path, workbook: Path) -> bool:
        modes.append(staged.stat().st_mode & 0o777)
        return real(staged, workbook)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(commit, "exchange", checking)
        write_tab(book, TAB, RESULT, work_dir=data)
    assert modes == [0o644]  # the workbook's own mode, set before it is swapped in
    assert book.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("atomic_exchange", [True, False], ids=["exchange", "link-rename"])
def test_a_save_between_the_check_and_the_swap_is_kept(
    city: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, atomic_exchange: bool
) -> None:
    """The forced interleaving: staff save right after the service checked that they had not."""
    book, data = city
    if not atomic_exchange:
        monkeypatch.setattr(commit, "exchange", lambda a, b: False)
    real_check = commit._check_unchanged
    saved: list[bytes] = []

    def check_then_staff_saves(path: Path, original: os.stat_result) -> None:
        real_check(path, original)
        saved.append(staff_save(book, "B-777"))

    monkeypatch.setattr(commit, "_check_unchanged", check_then_staff_saves)
    with pytest.raises(PatchError, match="changed while it was being updated") as caught:
        write_tab(book, TAB, RESULT, work_dir=data)
    assert caught.value.reason == "changed"
    assert book.read_bytes() == saved[0]
    assert listing(book.parent) == ["kkmp.xlsx"]
    assert listing(staging.staging_folder(data)) == []

    monkeypatch.undo()  # the next cycle writes, over staff's save
    assert write_tab(book, TAB, RESULT, work_dir=data)
    assert read_tab(book, "Anggota")[1][0] == "B-777"


def test_a_save_that_lands_inside_the_exchange_is_swapped_back(
    city: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The save lands after the last check, so only the comparison after the swap can see it."""
    book, data = city
    real = commit.exchange
    saved: list[bytes] = []

    def staff_first(a: Path, b: Path) -> bool:
        if not saved:
            saved.append(staff_save(book, "C-123"))
        return real(a, b)

    monkeypatch.setattr(commit, "exchange", staff_first)
    with pytest.raises(PatchError) as caught:
        write_tab(book, TAB, RESULT, work_dir=data)
    assert caught.value.reason == "changed"
    assert book.read_bytes() == saved[0]
    assert listing(staging.staging_folder(data)) == []


def test_a_bad_result_on_disk_is_rolled_back(
    city: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    book, data = city
    original = book.read_bytes()
    real = commit.exchange
    calls: list[int] = []

    def exchange_then_damage(a: Path, b: Path) -> bool:
        done = real(a, b)
        calls.append(1)
        if len(calls) == 1:  # the new file lands damaged (same size, same times)
            info = os.stat(b)
            with open(b, "r+b") as file:
                file.write(b"\0" * info.st_size)
            os.utime(b, ns=(info.st_atime_ns, info.st_mtime_ns))
        return done

    monkeypatch.setattr(commit, "exchange", exchange_then_damage)
    with pytest.raises(PatchError, match="does not match"):
        write_tab(book, TAB, RESULT, work_dir=data)
    assert book.read_bytes() == original
    assert listing(book.parent) == ["kkmp.xlsx"]
    assert listing(staging.staging_folder(data)) == []


@pytest.mark.parametrize("atomic_exchange", [True, False], ids=["exchange", "link-rename"])
def test_a_failed_swap_leaves_the_original(
    city: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, atomic_exchange: bool
) -> None:
    book, data = city
    original, mtime = book.read_bytes(), book.stat().st_mtime_ns

    def no_space(*args: object) -> bool:
        raise OSError(28, "No space left on device")

    if atomic_exchange:
        monkeypatch.setattr(commit, "exchange", no_space)
    else:
        monkeypatch.setattr(commit, "exchange", lambda a, b: False)
        monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(PatchError, match="No space left on device"):
        write_tab(book, TAB, RESULT, work_dir=data)
    assert (book.read_bytes(), book.stat().st_mtime_ns) == (original, mtime)
    assert listing(book.parent) == ["kkmp.xlsx"]
    assert listing(staging.staging_folder(data)) == []


def test_data_folder_on_another_file_system_stages_under_a_hidden_name(
    city: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    book, data = city
    monkeypatch.setattr(staging, "_same_file_system", lambda a, b: False)
    seen: list[list[str]] = []
    real = commit.exchange

    def watching(a: Path, b: Path) -> bool:
        seen.append(listing(book.parent))
        return real(a, b)

    monkeypatch.setattr(commit, "exchange", watching)
    write_tab(book, TAB, RESULT, work_dir=data)
    staged = [n for n in seen[0] if n != "kkmp.xlsx"]
    assert len(staged) == 1 and staged[0].startswith(".~kkmp-kkmp.xlsx.")
    assert staged[0].endswith(".tmp")
    assert listing(book.parent) == ["kkmp.xlsx"]


def test_debris_of_earlier_versions_is_removed_even_when_nothing_changes(
    city: tuple[Path, Path],
) -> None:
    book, data = city
    write_tab(book, TAB, RESULT, work_dir=data)
    for name in ("kkmp.xlsx.bak", ".kkmp.xlsx.abc123.tmp", ".~kkmp-kkmp.xlsx.0a1b.tmp"):
        (book.parent / name).write_bytes(b"left over")
    (book.parent / "catatan.xlsx.bak").write_bytes(b"not ours to touch")
    assert write_tab(book, TAB, RESULT, work_dir=data) is False  # the tab is as it should be
    assert listing(book.parent) == ["catatan.xlsx.bak", "kkmp.xlsx"]


@pytest.mark.parametrize("code", ["read-only", "open"])
def test_refusals_say_what_staff_can_do(city: tuple[Path, Path], code: str) -> None:
    book, data = city
    if code == "read-only":
        os.chmod(book, 0o444)
    else:
        (book.parent / ".~lock.kkmp.xlsx#").write_text("pengurus,desktop")
    with pytest.raises(PatchError) as caught:
        write_tab(book, TAB, RESULT, work_dir=data)
    assert caught.value.reason == code


# ------------------------------------------------------------------------------------------------
# A crash at each step, then the next run


class Killed(BaseException):
    """Stands for SIGKILL inside the test process."""


def crash_at(monkeypatch: pytest.MonkeyPatch, point: str) -> None:
    """Stop the write at `point` as SIGKILL would: no clean-up and no rollback runs."""

    def reached(name: str) -> None:
        if name == point:
            raise Killed

    monkeypatch.setattr(crashpoints, "reached", reached)
    monkeypatch.setattr(staging.Staged, "discard", lambda self: None)
    monkeypatch.setattr(commit, "_swap_back", lambda staged, path: None)


@pytest.mark.parametrize(
    ("point", "finished"),
    [
        ("feedback-journal", False),
        ("feedback-staged", False),
        ("feedback-verified", False),
        ("feedback-swapped", True),
    ],
)
def test_the_next_run_settles_what_a_crash_left(
    city: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, point: str, finished: bool
) -> None:
    book, data = city
    before = book.read_bytes()
    with monkeypatch.context() as patch:
        crash_at(patch, point)
        with contextlib.suppress(Killed):
            write_tab(book, TAB, RESULT, work_dir=data)
    assert listing(staging.staging_folder(data))  # the crash left something behind
    assert listing(book.parent) == ["kkmp.xlsx"]

    actions = recover(data)
    assert actions
    assert listing(staging.staging_folder(data)) == []
    assert (read_tab(book, TAB) is not None) is finished
    if not finished:
        assert book.read_bytes() == before
    assert read_tab(book, "Anggota")[1][0] == "A-001"


def test_staff_save_displaced_by_an_interrupted_swap_is_put_back(
    city: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process died between swapping and comparing: the displaced file was staff's save."""
    book, data = city
    real = commit.exchange
    saved: list[bytes] = []

    def staff_first(a: Path, b: Path) -> bool:
        if not saved:
            saved.append(staff_save(book, "D-404"))
        return real(a, b)

    with monkeypatch.context() as patch:
        patch.setattr(commit, "exchange", staff_first)
        crash_at(patch, "never")
        patch.setattr(commit, "version_of", lambda info: (0, 0, 0))  # the comparison never ran
        write_tab(book, TAB, RESULT, work_dir=data)
    assert book.read_bytes() != saved[0]

    recover(data)
    assert book.read_bytes() == saved[0]
    assert listing(staging.staging_folder(data)) == []


def test_a_workbook_that_does_not_open_gets_its_original_back(
    city: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    book, data = city
    before = book.read_bytes()
    with monkeypatch.context() as patch:
        crash_at(patch, "feedback-swapped")
        with contextlib.suppress(Killed):
            write_tab(book, TAB, RESULT, work_dir=data)
    info = book.stat()
    with open(book, "r+b") as file:  # damaged in place, as a failing disk would
        file.write(b"\0" * 64)
    os.utime(book, ns=(info.st_atime_ns, info.st_mtime_ns))
    recover(data)
    assert book.read_bytes() == before


def test_orphans_and_torn_journals_are_removed(tmp_path: Path) -> None:
    folder = staging.staging_folder(tmp_path)
    folder.mkdir(parents=True)
    (folder / "0a0a.xlsx").write_bytes(b"PK...")
    (folder / "0b0b.json").write_text('{"workbook": ')
    recover(tmp_path)
    assert listing(folder) == []


def test_exchange_swaps_two_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("A")
    b.write_text("B")
    if not swap.exchange(a, b):
        pytest.skip("this file system cannot exchange names atomically")
    assert (a.read_text(), b.read_text()) == ("B", "A")


def test_rewriting_the_tab_again_uses_the_same_path(city: tuple[Path, Path]) -> None:
    book, data = city
    assert write_tab(book, TAB, RESULT, work_dir=data)
    inode = book.stat().st_ino
    assert write_tab(book, TAB, RESULT_2, work_dir=data)
    assert book.stat().st_ino != inode  # a new file in place: readers see old or new, not half
    assert len(read_tab(book, TAB) or []) == len(RESULT_2)


def test_a_hidden_staged_file_beside_the_workbook_is_settled_too(
    city: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Data folder on another file system: the crash leaves the hidden file beside the workbook;
    the journal in the data folder still finds it."""
    book, data = city
    with monkeypatch.context() as patch:
        patch.setattr(staging, "_same_file_system", lambda a, b: False)
        crash_at(patch, "feedback-verified")
        with contextlib.suppress(Killed):
            write_tab(book, TAB, RESULT, work_dir=data)
    assert len(listing(book.parent)) == 2
    recover(data)
    assert listing(book.parent) == ["kkmp.xlsx"]
    assert listing(staging.staging_folder(data)) == []


# ------------------------------------------------------------------------------------------------
# A batch of writes: one flush of each folder


def counting_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each fsync as "folder" or "file"."""
    real = os.fsync
    calls: list[str] = []

    def fsync(descriptor: int) -> None:
        calls.append("folder" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file")
        real(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def test_a_batch_flushes_each_folder_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    books = [make_book(tmp_path / folder / f"{n}.xlsx") for folder in "ab" for n in range(3)]
    debris = [books[0].with_name(".~kkmp-0.xlsx.0a0a.tmp"), books[4].with_name("1.xlsx.bak")]
    for leftover in debris:
        leftover.write_bytes(b"left by an earlier crash")
    calls = counting_fsyncs(monkeypatch)
    with WriteBatch() as batch:
        for book in books:
            assert write_tab(book, TAB, RESULT, work_dir=data, batch=batch)
            # Nothing is kept for the flush: the write is whole and its leftovers are gone.
            assert listing(staging.staging_folder(data)) == []
        # Each write's data and journal are on disk before its swap; no folder yet.
        assert calls == ["file", "file"] * len(books)
    assert calls.count("folder") == 2  # a/ and b/, once each
    assert all(listing(book.parent) == [f"{n}.xlsx" for n in range(3)] for book in books)
    assert all((read_tab(book, TAB) or [])[2] == RESULT[2] for book in books)


def test_a_write_without_a_batch_flushes_its_folder_before_returning(
    city: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    book, data = city
    calls = counting_fsyncs(monkeypatch)
    assert write_tab(book, TAB, RESULT, work_dir=data)
    assert calls == ["file", "file", "folder"]
    assert listing(staging.staging_folder(data)) == []


def test_a_crash_before_the_batch_is_flushed_leaves_whole_workbooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the swaps but before the folders' flush: every workbook is whole and
    written, nothing is left for the next run to settle."""
    data = tmp_path / "data"
    books = [make_book(tmp_path / "k" / f"{n}.xlsx") for n in range(3)]
    with monkeypatch.context() as patch:
        crash_at(patch, "feedback-batch-synced")
        with contextlib.suppress(Killed), WriteBatch() as batch:
            for book in books:
                write_tab(book, TAB, RESULT, work_dir=data, batch=batch)
    assert listing(books[0].parent) == ["0.xlsx", "1.xlsx", "2.xlsx"]
    recover(data)
    assert listing(staging.staging_folder(data)) == []
    assert all((read_tab(book, TAB) or [])[2] == RESULT[2] for book in books)
    assert all(read_tab(book, "Anggota")[1][0] == "A-001" for book in books)


def test_a_data_tab_changed_between_plan_and_commit_is_refused(
    city: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staff change the Anggota tab after the write read the workbook: the new package, built
    from the old bytes, would undo their edit, so it is refused and their save kept."""
    book, data = city
    real = xlsx_patch._write_zip
    saved: list[bytes] = []

    def staff_edit_while_planning(*args: object) -> bytes:
        saved.append(staff_save(book, "E-505"))
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(xlsx_patch, "_write_zip", staff_edit_while_planning)
    with pytest.raises(PatchError) as caught:
        write_tab(book, TAB, RESULT, work_dir=data)
    assert caught.value.reason == "changed"
    assert book.read_bytes() == saved[0]
    assert read_tab(book, "Anggota")[1][0] == "E-505"
    assert listing(staging.staging_folder(data)) == []
