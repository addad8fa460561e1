"""The filter x codec matrix: filter pipelines round-trip (lossy within its bound), every
data source sweeps with its dtype, and the picks follow the stated rule."""

import matplotlib.image
import numpy as np
import pandas as pd
import pytest

from outofcore.blosc import bench as blosc_bench
from outofcore.blosc import figures as blosc_figures
from outofcore.blosc import filters as blosc_filters
from outofcore.blosc import matrix as blosc_matrix
from outofcore.blosc import rows as blosc_rows
from outofcore.core.files import save_figure, write_csv
from outofcore.data.sources import open_source
from outofcore.plan.source_specs import parse_sources
from outofcore.summary.decision import decide
from outofcore.summary.headline import headline_frame
from support import LIMITS

TINY = dict(sizes=[1000, 20000], clevel=5, threads=[1], repeats=1, min_time=0.0005)
FILTERS = ["shuffle", "bitshuffle", "shuffle+bytedelta", "delta", "trunc_prec:12+shuffle", "none"]


@pytest.mark.parametrize("name", FILTERS)
@pytest.mark.parametrize("codec", ["lz4", "zstd"])
def test_pipelines_round_trip_exactly_or_within_their_bound(name, codec):
    array = np.random.default_rng(0).normal(size=5000)
    pipeline = blosc_filters.parse(name)
    out = np.empty_like(array)
    pack, unpack, result, _ = blosc_bench.round_trip_calls("blosc2", codec, 5, array, out, pipeline)
    pack()
    unpack()
    error = blosc_bench.check_round_trip(array, result(), name, pipeline.bits)
    if pipeline.lossy:
        assert 0 < error <= np.abs(array).max() * 2.0**-12
    else:
        assert error == 0 and np.array_equal(out, array)


def test_a_lossy_result_beyond_its_bound_is_caught():
    array = np.linspace(1, 2, 100)
    with pytest.raises(blosc_bench.RoundTripError, match="2\\*\\*-20"):
        blosc_bench.check_round_trip(array, array * (1 + 2.0**-10), "x", bits=20)


def test_a_lossless_round_trip_must_give_back_the_same_bits():
    values = np.array([0.0, np.nan, 1.5, -2.0])
    assert blosc_filters.same_bits(values, values.copy())
    assert not blosc_filters.same_bits(values, np.array([-0.0, np.nan, 1.5, -2.0]))  # equal, not same
    assert not blosc_filters.same_bits(values, values.astype(np.float32))
    assert blosc_filters.same_bits(np.arange(6, dtype=np.int16)[::2], np.array([0, 2, 4], dtype=np.int16))
    original = np.linspace(0, 1, 1000)
    restored = original.copy()
    restored[7] = np.nextafter(restored[7], 2)
    with pytest.raises(blosc_bench.RoundTripError, match="differ"):
        blosc_bench.check_round_trip(original, restored, "one ulp off")


def test_unknown_filters_are_refused_and_trunc_prec_skips_integers():
    with pytest.raises(ValueError, match="unknown filter"):
        blosc_filters.parse("shuffle+zigzag")
    assert not blosc_filters.parse("trunc_prec:10").applies_to(np.dtype(np.int32))
    assert not blosc_filters.parse("trunc_prec:30").applies_to(np.dtype(np.float32))
    assert blosc_filters.parse("trunc_prec:30").applies_to(np.dtype(np.float64))


def sweep_of(items, methods, tmp_path):
    parts = []
    for spec in parse_sources(items):
        source = open_source(spec, 42)
        for method, codec in methods:
            part = blosc_bench.sweep(method, codec, **TINY, memcpy_size=2**16, source=source, filters=FILTERS)
            path = tmp_path / f"{spec.label}-{method}-{codec}.csv"
            write_csv(part, path)
            parts.append(path)
    return blosc_rows.collect(parts)


@pytest.fixture(scope="module")
def matrix_sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("matrix")
    np.save(folder / "counts.npy", np.arange(3000, dtype=np.int16) % 7)
    items = ["linspace", "random_int", {"file": str(folder / "counts.npy")}]
    methods = [("compress_ptr", "lz4"), ("blosc2", "lz4"), ("blosc2", "zstd"), ("pack_array", "blosclz")]
    return sweep_of(items, methods, folder)


def test_every_source_and_filter_is_measured_in_its_dtype(matrix_sweep):
    rows = matrix_sweep[matrix_sweep["method"] != "memcpy"]
    assert set(rows["data"]) == {"linspace", "random_int", "counts"}
    blosc2 = rows[(rows["method"] == "blosc2") & (rows["data"] == "linspace")]
    assert set(blosc2["filters"]) == set(FILTERS)
    # trunc_prec applies to floats only
    assert "trunc_prec:12+shuffle" not in set(rows.loc[rows["data"] == "random_int", "filters"])
    assert set(rows.loc[rows["method"] == "compress_ptr", "filters"]) == {"shuffle"}
    dtypes = rows.groupby("data")["dtype"].first().to_dict()
    assert dtypes == {"linspace": "float64", "random_int": "int32", "counts": "int16"}
    assert (rows["nbytes"] == rows["size"] * rows["dtype"].map(lambda d: np.dtype(d).itemsize)).all()
    lossy = rows["filters"].str.contains("trunc_prec")
    assert (rows.loc[lossy, "max_error"] > 0).all() and (rows.loc[~lossy, "max_error"] == 0).all()


def test_picks_follow_the_rule(matrix_sweep):
    points = blosc_matrix.points(matrix_sweep)
    picks = blosc_matrix.picks(points)
    assert set(picks["data"]) == {"linspace", "random_int", "counts"}
    for data, chosen in picks.groupby("data"):
        chosen = chosen.set_index("pick")
        candidates = blosc_matrix.candidates(points[points["data"] == data])
        assert not candidates["lossy"].any()
        assert set(candidates["method"]) <= {"compress_ptr", "blosc2", "compress2"}
        assert chosen.loc["fastest", "roundtrip_gbps"] == candidates["roundtrip_gbps"].max()
        assert chosen.loc["smallest", "ratio"] == candidates["ratio"].max()
        front = candidates[blosc_matrix.pareto(candidates)]
        assert chosen.loc["balanced", "label"] in set(front["label"])
    rows = blosc_matrix.headline(matrix_sweep)
    assert len(rows) == 3 * 4 and all(row.unit == "GB/s" for row in rows)  # 3 picks + pack_array per source
    # a round trip reads the array once and writes it once: bounded by 1 / (1/read + 1/write)
    # over as many threads, measured by the same sweep jobs (their fastest samples)
    read = blosc_figures.bandwidth(matrix_sweep, "read", 1, best=True)
    write = blosc_figures.bandwidth(matrix_sweep, "write", 1, best=True)
    for row in rows:
        assert row.limit == "memory read + write, 1 thread"
        assert row.limit_value == pytest.approx(1 / (1 / read + 1 / write))
        assert row.value_low <= row.value <= row.value_high and row.compression_ratio > 0
    assert any("counts: smallest" in row.figure for row in rows)
    assert sum(row.tutorial for row in rows) == 3 and all(row.recipe for row in rows if not row.tutorial)


def test_the_decision_names_each_sources_picks_apart(matrix_sweep):
    rows = headline_frame(blosc_matrix.headline(matrix_sweep))
    decision = decide(LIMITS, rows)
    assert set(decision["data"]) == {"linspace", "random_int", "counts"}
    assert len(decision) == 3 * 3 and not decision.duplicated(["question", "data"]).any()
    points = blosc_matrix.points(matrix_sweep)
    for item in decision.itertuples(index=False):
        mine = points[(points["data"] == item.data) & (points["label"] == item.method)].iloc[0]
        assert item.compression_ratio == mine["ratio"] and item.value == mine["roundtrip_gbps"]
        tutorial = points[(points["data"] == item.data) & (points["method"] == "pack_array")]
        assert item.vs_tutorial == pytest.approx(item.value / tutorial["roundtrip_gbps"].max())
        assert item.size == f"ratio {item.compression_ratio:.3g}"
    smallest = decision[decision["question"].str.startswith("smallest")].set_index("data")
    for data, item in smallest.iterrows():
        best = blosc_matrix.candidates(points[points["data"] == data])["ratio"].max()
        assert item["compression_ratio"] >= best * (1 - blosc_matrix.TIE_RATIO)


def test_ties_are_candidates_whose_round_trip_samples_overlap():
    table = pd.DataFrame(
        {"data": "d", "method": ["compress_ptr", "blosc2"], "codec": "lz4", "filters": "shuffle",
         "label": ["compress_ptr/lz4/shuffle", "blosc2/lz4/shuffle"], "ratio": [2.0, 2.0], "lossy": False,
         "roundtrip_gbps": [5.0, 4.9], "roundtrip_low": [4.5, 4.4], "roundtrip_high": [5.5, 5.3]}
    )  # fmt: skip
    fastest = table.iloc[0].copy()
    assert blosc_matrix.ties_of("fastest", fastest, table) == "blosc2/lz4/shuffle"
    table.loc[1, ["roundtrip_low", "roundtrip_high"]] = [3.0, 4.0]
    assert blosc_matrix.ties_of("fastest", fastest, table) == ""


def test_pareto_front():
    table = pd.DataFrame({"ratio": [1, 2, 3, 2], "roundtrip_gbps": [3, 2, 1, 1]})
    assert blosc_matrix.pareto(table).tolist() == [True, True, True, False]


def test_matrix_figure_has_a_row_per_source(matrix_sweep, tmp_path):
    fig = blosc_matrix.matrix(matrix_sweep)
    axes = fig.get_axes()
    assert len(axes) == 3 * 2
    assert {ax.get_title().split(":")[0] for ax in axes} == {"linspace", "random_int", "counts"}
    assert all(ax.get_xscale() == "log" and ax.get_yscale() == "log" for ax in axes)
    save_figure(fig, tmp_path / "matrix.png")
    assert matplotlib.image.imread(tmp_path / "matrix.png").shape[2] in (3, 4)
