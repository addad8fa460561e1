"""Atomic outputs: complete files only under the real name, named errors, no leftovers."""

import pytest

from outofcore.io_utils import OutputWriteError, atomic_output, partial_name


def test_success_renames_into_place(tmp_path):
    target = tmp_path / "sub" / "out.csv"
    with atomic_output(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".out.csv.partial-")
        tmp.write_text("a,b\n")
        assert not target.exists()  # nothing under the real name until complete
    assert target.read_text() == "a,b\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.csv"]


def test_failure_names_the_file_and_removes_the_partial(tmp_path):
    target = tmp_path / "out.h5"
    expected = r"could not write .*out\.h5: OSError: disk full"
    with pytest.raises(OutputWriteError, match=expected), atomic_output(target) as tmp:
        tmp.write_text("half")
        raise OSError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_interrupt_is_not_disguised(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_output(tmp_path / "x") as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_stale_partials_of_a_killed_writer_are_removed(tmp_path):
    target = tmp_path / "out.h5"
    stale = partial_name(target).with_name(".out.h5.partial-999999")
    stale.write_text("left by a killed writer")
    other = tmp_path / ".other.h5.partial-1"
    other.write_text("another output's partial: not ours to remove")
    with atomic_output(target) as tmp:
        tmp.write_text("ok")
    assert not stale.exists() and other.exists() and target.read_text() == "ok"
