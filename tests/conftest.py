"""Shared helpers: run the real workflow with Snakemake's CLI in a scratch directory, and the
markers that split the suite (`make test-fast` runs what is neither workflow, cluster,
browser nor slow), and what tests must share one process when the suite runs on several
(`pytest -n auto`, as `make test` does)."""

import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
CONFIGS = REPO / "tests" / "configs"


def load_config(name: str) -> dict[str, Any]:
    """A test config from tests/configs/ (merged over config/config.yaml when run)."""
    return yaml.safe_load((CONFIGS / name).read_text())


def run_workflow(
    workdir: Path,
    config: dict[str, Any] | None = None,
    *args: str,
    check: bool = True,
    defaults: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run the repo's Snakefile with `workdir` as working directory and `config` merged
    over config/config.yaml (or over nothing with defaults=False: the schema's defaults
    apply); outputs land in workdir/results."""
    cmd = workflow_command(workdir, config, *args, defaults=defaults)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def workflow_command(
    workdir: Path, config: dict[str, Any] | None = None, *args: str, defaults: bool = True
) -> list[str]:
    """The Snakemake command line of run_workflow, for tests that start it themselves."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(workdir)]
    config_files = [str(REPO / "config" / "config.yaml")] if defaults else []
    if config is not None:
        config_path = workdir / "test-config.yaml"
        config_path.write_text(yaml.safe_dump(config))
        config_files.append(str(config_path))
    if config_files:
        cmd += ["--configfile", *config_files]
    return [*cmd, "--cores", "2", *args]


@pytest.fixture
def workflow_runner(tmp_path: Path):
    def run(config: dict[str, Any] | None = None, *args: str, **kwargs: Any):
        return run_workflow(tmp_path, config, *args, **kwargs)

    run.workdir = tmp_path
    return run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """One whole run at toy sizes with its report, shared by the tests that only read it."""
    workdir = tmp_path_factory.mktemp("tiny-run")
    run_workflow(workdir, load_config("tiny.yaml"), "--report", "results/report.html", "--report-after-run")
    return workdir


WORKFLOW_FIXTURES = {"workflow_runner", "tiny_run"}
WORKFLOW_CALLS = ("run_workflow(", "workflow_command(", "SNAKEMAKE", "make_run(")
MARKED_BY_FOLDER = {"cluster": "cluster", "browser": "browser", "workflow": "workflow"}


def runs_the_workflow(item: pytest.Item) -> bool:
    """A test runs the workflow if it uses a runner fixture or calls a runner itself."""
    if WORKFLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    try:
        source = inspect.getsource(item.function)
    except (AttributeError, OSError, TypeError):
        return False
    return any(call in source for call in WORKFLOW_CALLS)


# Test files that read the session's one tiny run: kept on one process so it runs once
TINY_RUN_FILES = {
    str(path.relative_to(REPO))
    for path in (REPO / "tests").rglob("test_*.py")
    if "tiny_run" in path.read_text()
}


def shared_scope(nodeid: str) -> str:
    """What a test must share one process with, when the suite runs on several
    (`pytest -n auto`, as `make test` does): the SLURM tests one another (they take turns
    on the machine's one test cluster), the tiny run's readers one another (it runs once),
    any other test its file (a module-scoped run is made once)."""
    path = nodeid.split("::", 1)[0]
    if path.startswith("tests/cluster/"):
        return "slurm"
    if path in TINY_RUN_FILES:
        return "tiny_run"
    return path


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Whole scopes of `shared_scope` to each process, in the order of the collection
    (which `heavy_first` sorted)."""
    from xdist.scheduler import LoadScopeScheduling

    class SharedScopeScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return shared_scope(nodeid)

    config.option.loadscopereorder = False  # xdist would sort the scopes by test count
    return SharedScopeScheduling(config, log)


HEAVY = ("cluster", "browser", "workflow", "slow")


def heavy_first(items: list[pytest.Item]) -> None:
    """Scopes in the order the longest start first (the SLURM tests, the tiny run's
    readers, then the files with a workflow run or a slow test), each scope whole, so that
    several processes do not end waiting for one long file."""
    first: dict[str, int] = {}
    heavy: set[str] = set()
    for index, item in enumerate(items):
        scope = shared_scope(item.nodeid)
        first.setdefault(scope, index)
        if any(item.get_closest_marker(name) for name in HEAVY):
            heavy.add(scope)

    def rank(item: pytest.Item) -> tuple[int, int]:
        scope = shared_scope(item.nodeid)
        order = {"slurm": 0, "tiny_run": 1}.get(scope, 2 if scope in heavy else 3)
        return order, first[scope]

    items.sort(key=rank)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        folder = Path(item.path).parent.name
        if folder in MARKED_BY_FOLDER:
            item.add_marker(MARKED_BY_FOLDER[folder])
        if runs_the_workflow(item):
            item.add_marker("workflow")
    heavy_first(items)
