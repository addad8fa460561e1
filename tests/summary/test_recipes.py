"""Every recipe the decision page shows runs, at a toy size: no snippet of the report is broken."""

import runpy
import sys

import pytest

from conftest import REPO
from outofcore.blosc import matrix as blosc_matrix
from outofcore.hugearray import figures as hugearray_figures
from outofcore.particles import figures as particle_figures
from outofcore.particles.formats.registry import FORMATS

RECIPES = REPO / "docs" / "recipes"
HELPERS = {"particles"}  # the stand-in data the table recipes import, not a recipe
TOY = {"blosc": ["2000"], "hugearray": ["1"]}  # argv per recipe family (elements, MiB); tables: rows


def toy_arguments(name: str) -> list[str]:
    return next((args for prefix, args in TOY.items() if name.startswith(prefix)), ["1000"])


@pytest.mark.parametrize("recipe", sorted(p.stem for p in RECIPES.glob("*.py") if p.stem not in HELPERS))
def test_every_recipe_runs_at_a_toy_size(recipe, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(RECIPES))
    monkeypatch.setattr(sys, "argv", [f"{recipe}.py", *toy_arguments(recipe)])
    runpy.run_path(str(RECIPES / f"{recipe}.py"), run_name="__main__")
    printed = capsys.readouterr().out
    assert printed.strip(), f"{recipe} printed nothing"
    if recipe.endswith("_query") or "where" in recipe or "select" in recipe:
        assert "300 of 1,000 rows match" in printed  # the same rows whatever the engine


def test_blosc2_recipe_takes_the_codec_and_filters_a_pick_names(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["blosc2_compress.py", "20000", "zstd", "shuffle+bytedelta"])
    runpy.run_path(str(RECIPES / "blosc2_compress.py"), run_name="__main__")
    assert "ratio" in capsys.readouterr().out


def test_every_recipe_a_stage_names_exists_and_is_short():
    named = {recipe for _, recipe in [*particle_figures.HOW.values(), *hugearray_figures.HOW.values(),
                                      *hugearray_figures.ENGINE_HOW.values()] if recipe}  # fmt: skip
    named |= {blosc_matrix.how(m, "lz4", "shuffle", 2)[1] for m in ("blosc2", "compress_ptr")}
    present = {p.stem for p in RECIPES.glob("*.py")}
    assert named <= present, named - present
    for path in RECIPES.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 30, f"{path.name}: a recipe stays short"


def test_every_registered_table_writer_and_engine_has_a_recipe():
    methods = {w.method for entry in FORMATS.values() for w in entry.writers}
    methods |= {engine.name for entry in FORMATS.values() for engine in entry.engines}
    lacking = sorted(m for m in methods if not particle_figures.HOW.get(m, ("", ""))[1])
    assert lacking == [], f"add a docs/recipes file and its HOW entry in particles/figures.py for {lacking}"
