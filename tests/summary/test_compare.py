"""compare_runs on two hand-made results folders."""

import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO
from outofcore.summary import compare


def sweep(seconds: dict[int, float], stable: dict[int, bool] | None = None) -> pd.DataFrame:
    rows = [
        {"method": "blosc2", "codec": "lz4", "threads": 1, "size": size, "operation": "compress",
         "seconds": s, "stable": (stable or {}).get(size, True)}
        for size, s in seconds.items()
    ]  # fmt: skip
    return pd.DataFrame(rows)


def timings(seconds: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"step": "query", "method": m, "rows": 100_000, "seconds": s, "stable": True}
            for m, s in seconds.items()
        ]
    )


def results(root, sweep_table: pd.DataFrame, timing_table: pd.DataFrame):
    (root / "blosc").mkdir(parents=True)
    sweep_table.to_csv(root / "blosc" / "sweep.csv", index=False)
    if len(timing_table):
        (root / "particles" / "100000").mkdir(parents=True)
        timing_table.to_csv(root / "particles" / "100000" / "timings.csv", index=False)
    return root


@pytest.fixture
def runs(tmp_path):
    a = results(
        tmp_path / "a",
        sweep({100: 1.0, 10**4: 1.0, 10**5: 2.0, 10**6: 4.0}),
        timings({"where": 1.0, "read": 1.0}),
    )
    b = results(
        tmp_path / "b",
        # n=100: too small to count; 10**5: unstable in b; 10**6: 50 % slower
        sweep({100: 9.0, 10**4: 1.1, 10**5: 5.0, 10**6: 6.0}, stable={10**5: False}),
        timings({"where": 0.9, "read": 1.2}),
    )
    return a, b


def test_share_of_stable_points_that_agree(runs):
    frame = compare.compare_runs(*runs)
    assert len(frame) == 4  # sweep n=1e4 and 1e6, two queries
    assert frame["agree"].sum() == 2  # n=1e4 (+10 %), where (-10 %)
    worst = frame.iloc[0]
    assert "size=1000000" in worst["point"] and worst["relative_difference"] == pytest.approx(0.5)
    read = frame[frame["point"].str.contains("method=read")].iloc[0]
    assert read["relative_difference"] == pytest.approx(0.2) and not read["agree"]


def test_command_line_prints_the_share_and_the_worst(runs):
    a, b = runs
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "compare_runs.py"), str(a), str(b), "--worst", "2"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert proc.stdout.startswith("2 of 4 stable points with n >= 10000 agree within 15% (50%)")
    assert "size=1000000" in proc.stdout and "size=100," not in proc.stdout


def test_missing_folder_is_an_error_naming_it(tmp_path, runs):
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "compare_runs.py"), str(runs[0]), str(tmp_path / "nope")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2 and "nope" in proc.stderr


def test_tables_without_spread_columns_count_as_stable(tmp_path):
    a = results(tmp_path / "a", sweep({10**5: 1.0}).drop(columns="stable"), timings({}))
    b = results(tmp_path / "b", sweep({10**5: 1.05}).drop(columns="stable"), timings({}))
    frame = compare.compare_runs(a, b)
    assert len(frame) == 1 and frame["agree"].all()


def test_all_points_are_counted_too(runs):
    every = compare.compare_runs(*runs, stable_only=False)
    assert len(every) == 5  # the point unstable in b counts here
    assert "all points with n >= 10000, stable or not: 2 of 5 agree (40%)" in compare.report(*runs)


def test_a_run_directory_holding_results_is_accepted(tmp_path, runs):
    a, b = runs
    run = tmp_path / "run"
    run.mkdir()
    a.rename(run / "results")
    assert len(compare.compare_runs(run, b)) == 4


def test_contention_read_back_from_the_jobs_logs(tmp_path):
    from outofcore.core import contention

    busy = contention.Contention(seconds=12.5, others=0.42, steal=0.01)
    (tmp_path / "blosc_sweep_blosc2_lz4.log").write_text(f"x INFO while sweeping, {busy}\n")
    (tmp_path / "datasets.log").write_text("nothing timed here\n")
    table = contention.from_logs(tmp_path)
    assert table.to_dict("records") == [
        {"job": "blosc_sweep_blosc2_lz4", "others_busy": 0.42, "steal": 0.01, "seconds": 12.5,
         "cores": contention.psutil.cpu_count()}
    ]  # fmt: skip


def test_points_of_other_data_sources_and_stores_are_not_matched(tmp_path):
    """Two data sources (and two stores) at the same point: each matched with its own."""
    table = pd.concat(
        [sweep({10**5: 1.0}).assign(data="linspace"), sweep({10**5: 3.0}).assign(data="counts")]
    )
    query = timings({"duckdb": 1.0})
    stores = pd.concat([query.assign(format="parquet"), query.assign(format="hdfstore", seconds=5.0)])
    a = results(tmp_path / "a", table, stores)
    b = results(tmp_path / "b", table, stores)
    frame = compare.compare_runs(a, b)
    assert len(frame) == 4 and frame["agree"].all()  # no cross-pairs of sources or stores
    assert frame["point"].str.contains("data=").sum() == 2


def machine_limits(root, cpu: str) -> None:
    rows = [("cores", "2", "count", "x"), ("memory", "23.5", "GiB", "x"), ("cpu_model", cpu, "text", "x")]
    pd.DataFrame(rows, columns=["name", "value", "unit", "how"]).to_csv(root / "limits.csv", index=False)


def test_other_machines_compare_fractions_and_ratios_never_seconds(tmp_path):
    a = results(tmp_path / "a", sweep({10**4: 1.0, 10**6: 4.0}), timings({"where": 1.0, "read": 2.0}))
    b = results(tmp_path / "b", sweep({10**4: 1.5, 10**6: 6.0}), timings({"where": 1.5, "read": 3.0}))
    for root, cpu, fraction in ((a, "AMD EPYC", 0.5), (b, "Intel Xeon", 0.55)):
        machine_limits(root, cpu)
        pd.DataFrame({"stage": ["particles"], "figure": ["fill"], "fraction_of_limit": [fraction]}).to_csv(
            root / "summary.csv", index=False
        )
    text = compare.report(a, b)
    assert text.startswith("different machines (") and "seconds are not compared" in text
    assert "stable points with n >= 10000 agree within 15% (" not in text.splitlines()[0]
    assert "fractions of the limit: 1 of 1 headline figures agree within 15% (100%)" in text
    # 1.5x slower throughout: every ratio within the run is the same
    assert "ratios within a run (seconds / the median of the points beside it): 4 of 4" in text
    ratios = compare.compare_runs(a, b, ratios=True)
    assert ratios["seconds_a"].tolist() == pytest.approx(ratios["seconds_b"].tolist())
    machine_limits(b, "AMD EPYC")  # one machine: seconds compared first
    assert compare.report(a, b).startswith("0 of 4 stable points with n >= 10000 agree within 15%")


def test_a_point_two_particle_jobs_time_is_counted_once_from_the_job_of_its_size(tmp_path):
    """The 10^6-row job also times the row-by-row fill at 10^5 rows: one point, not two."""
    fill = {"step": "fill", "method": "row", "rows": 100_000, "order": "sorted", "format": "pytables"}
    for run, own, other in (("a", 1.0, 5.0), ("b", 1.1, 9.0)):
        for folder, seconds in (("100000", own), ("1000000", other)):
            path = tmp_path / run / "particles" / folder
            path.mkdir(parents=True)
            row = pd.DataFrame([{**fill, "seconds": seconds, "stable": True}])
            row.to_csv(path / "timings.csv", index=False)
    frame = compare.compare_runs(tmp_path / "a", tmp_path / "b")
    assert len(frame) == 1  # once
    assert frame.iloc[0][["seconds_a", "seconds_b"]].tolist() == [1.0, 1.1]  # the 10^5-row job's
    assert compare.compare_runs(tmp_path / "a", tmp_path / "b", ratios=True)["n"].tolist() == [100_000]
