"""Atomic outputs: complete files only under the real name, named errors, no leftovers."""

import pytest

from outofcore.core.files import OutputWriteError, atomic_output, partial_name, save_figure


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


# --- a directory output (a store of many files) ---------------------------------------------


def test_directory_output_is_renamed_into_place_complete(tmp_path):
    target = tmp_path / "sub" / "store.zarr"
    with atomic_output(target, directory=True) as tmp:
        assert tmp.is_dir() and list(tmp.iterdir()) == []  # an empty hidden directory
        assert tmp.parent == target.parent and tmp.name.startswith(".store.zarr.partial-")
        (tmp / "c" / "0").mkdir(parents=True)
        (tmp / "c" / "0" / "0").write_bytes(b"chunk")
        (tmp / "zarr.json").write_text("{}")
        assert not target.exists()  # nothing under the real name until complete
    assert (target / "c" / "0" / "0").read_bytes() == b"chunk" and (target / "zarr.json").read_text() == "{}"
    assert [p.name for p in target.parent.iterdir()] == ["store.zarr"]


def test_directory_output_replaces_a_previous_one(tmp_path):
    target = tmp_path / "store.zarr"
    target.mkdir()
    (target / "old").write_text("from an earlier run")
    with atomic_output(target, directory=True) as tmp:
        (tmp / "new").write_text("this run")
    assert sorted(p.name for p in target.iterdir()) == ["new"]


def test_failed_directory_output_leaves_nothing(tmp_path):
    target = tmp_path / "store.zarr"
    expected = r"could not write .*store\.zarr: OSError: disk full"
    with pytest.raises(OutputWriteError, match=expected), atomic_output(target, directory=True) as tmp:
        (tmp / "c").mkdir()
        (tmp / "c" / "0").write_bytes(b"half")
        raise OSError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_stale_partial_directory_of_a_killed_writer_is_removed(tmp_path):
    target = tmp_path / "store.zarr"
    stale = tmp_path / ".store.zarr.partial-999999"
    (stale / "c").mkdir(parents=True)
    (stale / "c" / "0").write_bytes(b"left by a killed writer")
    other = tmp_path / ".other.zarr.partial-1"
    other.mkdir()
    with atomic_output(target, directory=True) as tmp:
        (tmp / "zarr.json").write_text("{}")
    assert not stale.exists() and other.exists() and (target / "zarr.json").exists()


def test_stale_partial_directory_is_removed_before_a_file_output_too(tmp_path):
    target = tmp_path / "out.h5"
    stale = tmp_path / ".out.h5.partial-999999"
    stale.mkdir()
    (stale / "x").write_text("left behind")
    with atomic_output(target) as tmp:
        tmp.write_text("ok")
    assert not stale.exists() and target.read_text() == "ok"


def test_saved_figures_have_text_readable_at_the_width_the_report_shows_them(tmp_path):
    import matplotlib.pyplot as plt

    from outofcore.core.readable import DPI, MIN_TEXT_PX, REPORT_WIDTH_PX, shown_px, smallest_text_px

    fig, ax = plt.subplots(figsize=(14, 5))  # 1,680 pixels: the report shows it scaled down
    ax.plot([1, 10], [1, 10], label="a line")
    ax.set_xscale("log")
    ax.legend(fontsize=7)
    ax.set_title("title", fontsize=8)
    assert shown_px(fig, 8) < 8  # 8-point text shown under 8 pixels
    save_figure(fig, tmp_path / "f.png")
    assert smallest_text_px(fig) >= MIN_TEXT_PX - 0.01  # ticks drawn at save time too
    assert shown_px(fig, 1.0) == pytest.approx(DPI / 72 * REPORT_WIDTH_PX / (14 * DPI))
    small, _ = plt.subplots(figsize=(5, 3))  # narrower than the pane: shown at full size
    assert shown_px(small, 10) == pytest.approx(10 * DPI / 72)
    plt.close(small)
