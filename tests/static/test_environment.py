"""The pip pins, the conda environment and the per-rule envs name the same versions."""

import re

import yaml

from conftest import REPO

# PyPI name -> conda-forge/bioconda name where they differ
CONDA_NAMES = {
    "tables": "pytables",
    "blosc": "python-blosc",
    "blosc2": "python-blosc2",
    "duckdb": "python-duckdb",
    "dask": "dask-core",
}


def pip_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[CONDA_NAMES.get(name.lower(), name.lower())] = version
    return pins


def conda_pins(path) -> dict[str, str]:
    env = yaml.safe_load(path.read_text())
    pins = {}
    for dep in env["dependencies"]:
        assert isinstance(dep, str), f"{path.name}: use conda packages, not a pip section"
        name, _, version = re.split(r"(=+)", dep, maxsplit=1) if "=" in dep else (dep, "", "")
        pins[name.lower()] = version
    return pins


def test_environment_yml_matches_requirements():
    conda = conda_pins(REPO / "environment.yml")
    assert conda.pop("python") == "3.11"
    assert conda == pip_pins()


def test_rule_envs_use_the_pinned_versions():
    pins = pip_pins()
    envs = sorted((REPO / "workflow" / "envs").glob("*.yaml"))
    assert envs
    for path in envs:
        for name, version in conda_pins(path).items():
            if name == "python":
                assert version == "3.11", path.name
            elif name in pins:
                assert version == pins[name], f"{path.name}: {name}={version}, pinned {pins[name]}"


def test_every_rule_has_a_conda_env():
    for rules in (REPO / "workflow" / "rules").glob("*.smk"):
        for env in re.findall(r'conda:\s*"([^"]+)"', rules.read_text()):
            assert (rules.parent / env).resolve().is_file(), f"{rules.name}: {env}"
