"""The layout the code promises: entry scripts per rule, a library package, and the
modules the Snakemake process imports kept to the standard library."""

import ast
import re
import sys
from pathlib import Path

import pytest

from conftest import REPO

SCRIPTS = REPO / "scripts"
PACKAGE = SCRIPTS / "outofcore"
ENTRY_SCRIPTS = sorted(SCRIPTS.glob("*.py"))
TOOLS = {"compare_runs", "headline_table", "cluster_bench"}  # command-line tools (make compare, make bench)
MAX_LINES = 350


def imported_modules(path: Path) -> set[str]:
    """Absolute names of every module `path` imports (relative imports resolved to the package)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names.add("outofcore.plan")
            elif node.module:
                names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((PACKAGE / "plan").glob("*.py")), ids=lambda p: p.name)
def test_modules_snakemake_imports_use_only_the_standard_library(path):
    for name in imported_modules(path):
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names or name.startswith("outofcore.plan"), (
            f"{path.name} imports {name}: the Snakemake process imports this module"
        )


def test_rules_name_their_entry_script():
    """Every rule runs scripts/<its name>.py (a `use rule` may share its parent's), and
    every entry script belongs to a rule."""
    rules_text = "\n".join(p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))
    scripts = {}
    for block in re.split(r"\n(?=rule |use rule )", rules_text):
        match = re.match(r"rule (\w+):", block)
        script = re.search(r'script:\s*\n\s*"../../scripts/(\w+)\.py"', block)
        if match and script:
            scripts[match.group(1)] = script.group(1)
    assert scripts, "no rule with a script found"
    for rule, script in scripts.items():
        assert rule == script, f"rule {rule} runs scripts/{script}.py"
    assert {p.stem for p in ENTRY_SCRIPTS} - TOOLS == set(scripts.values())


@pytest.mark.parametrize("path", ENTRY_SCRIPTS, ids=lambda p: p.name)
def test_entry_scripts_import_no_other_entry_script(path):
    entries = {p.stem for p in ENTRY_SCRIPTS}
    assert not imported_modules(path) & entries


@pytest.mark.parametrize(
    "path", [*ENTRY_SCRIPTS, *sorted(PACKAGE.rglob("*.py"))], ids=lambda p: str(p.relative_to(SCRIPTS))
)
def test_modules_are_short(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines: split it by role"
