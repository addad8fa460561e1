"""docs/extending.md: every checklist item names the test that checks it, and those tests
exist; a stage's pieces (rules file, package, tests, headline in the summary) agree."""

import re

import pytest

from conftest import REPO

DOC = (REPO / "docs" / "extending.md").read_text()
CITED = sorted(set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", DOC)))
RULES = REPO / "workflow" / "rules"


def test_the_checklist_cites_tests():
    assert len(CITED) >= 12
    for section in ("table format", "array store", "limit", "stage"):
        assert re.search(rf"^## A new {section}\b", DOC, re.MULTILINE), f"no checklist for a new {section}"


@pytest.mark.parametrize("path, name", CITED, ids=[f"{p}::{n}" for p, n in CITED])
def test_every_cited_test_exists(path, name):
    source = (REPO / path).read_text()
    assert re.search(rf"^def {name}\(", source, re.MULTILINE), f"{path} has no test {name}"


def test_every_rules_file_is_included():
    snakefile = (REPO / "Snakefile").read_text()
    included = set(re.findall(r'^include: "workflow/rules/(\w+)\.smk"', snakefile, re.MULTILINE))
    assert included == {path.stem for path in RULES.glob("*.smk")}


def test_every_stage_headline_reaches_the_summary_and_the_docs():
    """A stage whose rule writes headline("<stage>") (results/<stage>/headline.csv) is in
    HEADLINE_STAGES, which the summary reads."""
    rules = {path.stem: path.read_text() for path in RULES.glob("*.smk")}
    stages = set(re.findall(r'headline=headline\("(\w+)"\)', "\n".join(rules.values())))
    assert stages >= {"particles", "blosc", "hugearray"}
    listed = re.search(r"HEADLINE_STAGES = \(([^)]*)\)", rules["common"]).group(1)
    assert "for stage in HEADLINE_STAGES" in rules["summary"]
    for stage in stages:
        assert f'"{stage}"' in listed, f"{stage}'s headline is not in HEADLINE_STAGES"
        assert f"`{stage}`" in DOC


def test_every_package_has_a_docstring_and_tests():
    for package in sorted((REPO / "scripts" / "outofcore").glob("*/__init__.py")):
        name = package.parent.name
        assert package.read_text().lstrip().startswith('"""'), f"outofcore.{name} has no docstring"
        assert list((REPO / "tests" / name).glob("test_*.py")), f"no tests/{name}/test_*.py"


def schema_keys(node: dict, path: str = "") -> list[tuple[str, dict]]:
    """Every key the config schema describes, with its definition, depth first."""
    keys = []
    for name, rules in node.get("properties", {}).items():
        keys.append((f"{path}{name}", rules))
        keys += schema_keys(rules, f"{path}{name}.")
    return keys


def test_every_config_key_has_a_description_and_a_default():
    import yaml

    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    keys = schema_keys(schema)
    assert len(keys) > 30
    for key, rules in keys:
        assert rules.get("description"), f"{key} has no description"
        assert "default" in rules, f"{key} has no default"


def test_every_timed_job_holds_the_timing_lock():
    """A rule whose script times (`timed_job`) declares timing_lock=1: one at a time."""
    blocks = {}
    for text in (path.read_text() for path in RULES.glob("*.smk")):
        for block in re.split(r"\n(?=rule |use rule )", text):
            script = re.search(r'"../../scripts/(\w+)\.py"', block)
            if script:
                blocks[script.group(1)] = block
    timed = [p.stem for p in (REPO / "scripts").glob("*.py") if "timed_job(" in p.read_text()]
    assert {"particles", "limits", "hugearray"} <= set(timed)
    for name in timed:
        assert "timing_lock=1" in blocks[name], f"rule {name} times but does not hold timing_lock"
