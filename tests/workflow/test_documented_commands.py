"""Every shell command README.md, docs/ and the config files' comments show works as written.

The commands are collected from the documents themselves (fenced `bash` blocks, inline
commands, indented commands in YAML comments) and run in a copy of the repository whose
`.venv` is this test environment. A command that would run the whole workflow or the
test suite runs as a dry run (`--dry-run`, `--collect-only`); the rest run for real.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

DOCUMENTS = ["README.md", "config/config.yaml", "config/cluster.yaml", "config/hugearray_targets.yaml",
             "config/bench.yaml",
             "config/hugearray_stores.yaml",
             "profiles/slurm/config.yaml",
             *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").rglob("*.md"))]  # fmt: skip
PROGRAMS = ("make ", "snakemake ", ".venv/bin/snakemake ", "conda ", "printf ")


def join_lines(lines: list[str]) -> list[str]:
    """Shell lines with their backslash continuations joined."""
    commands, current = [], ""
    for line in lines:
        current += line.strip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        if current:
            commands.append(current)
        current = ""
    return commands


def documented_commands() -> list[tuple[str, str]]:
    """(document, command) for every command the documents show."""
    found: list[tuple[str, str]] = []
    for name in DOCUMENTS:
        text = (REPO / name).read_text()
        if name.endswith(".md"):
            for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
                found += [(name, c) for c in join_lines(block.splitlines()) if c.startswith(PROGRAMS)]
            prose = re.sub(r"```.*?```", "", text, flags=re.S)
            found += [(name, c) for c in re.findall(r"`([^`\n]+)`", prose) if c.startswith(PROGRAMS)]
        else:  # commands in comments are indented by three spaces or more: "#   snakemake ..."
            lines = [m for m in re.findall(r"^#\s{3,}(.*)$", text, flags=re.M)]
            found += [(name, c) for c in join_lines(lines) if c.startswith(PROGRAMS)]
    return list(dict.fromkeys(found))


def safe_form(command: str, tmp: Path) -> str:
    """The command as the test runs it: a dry run where the real one runs the workflow."""
    command = command.replace("/tmp/", f"{tmp}/")
    if command.startswith("make "):
        target = command.split()[1]
        if target in ("test", "test-fast"):
            return f'make {target} ARGS="--collect-only -q"'
        if target == "report":
            return "make -n report"  # needs a finished run: make prints the command only
        if target == "compare":  # needs two finished runs: make prints the command only
            return command.replace("make ", "make -n ", 1)
        match = re.search(r'ARGS="([^"]*)"', command)
        args = match.group(1) if match else ""
        if "--unlock" in args or "--dry-run" in args:
            return command
        return f'make {target} ARGS="{(args + " --dry-run").strip()}"'
    if command.startswith("conda "):
        return command.replace("conda env create", "conda env create --dry-run")
    if "snakemake" in command and "--dry-run" not in command:
        return (
            command.replace("snakemake", "snakemake --dry-run", 1)
            if ";" in command
            else command + " --dry-run"
        )
    return command


def repository_copy(tmp: Path) -> Path:
    """The tracked files, plus a `.venv` that is this environment (nothing installed)."""
    copy = tmp / "repo"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in files.decode().split("\0"):
        if name and (REPO / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    venv, prefix = copy / ".venv", Path(sys.prefix)
    (venv / "bin").mkdir(parents=True)
    for entry in prefix.iterdir():
        if entry.name != "bin":
            (venv / entry.name).symlink_to(entry)
    for entry in (prefix / "bin").iterdir():
        if not entry.name.startswith("."):
            (venv / "bin" / entry.name).symlink_to(entry)
    (venv / "bin" / ".installed").touch()  # newer than requirements.txt: make installs nothing
    (copy / "my.yaml").write_text((REPO / "tests" / "configs" / "tiny.yaml").read_text())
    return copy


COMMANDS = documented_commands()
# each distinct command once, as the test runs it (several documents show the same one)
RUNS = list({safe_form(c, Path("/tmp")): (d, c) for d, c in COMMANDS}.values())


def test_the_documents_show_the_commands_a_user_needs():
    commands = [command.split("#")[0].strip() for _, command in COMMANDS]
    for expected in ("make run", "make test", 'make run ARGS="--dry-run"', "make smoke", "make bench"):
        assert expected in commands, expected
    assert any("--profile profiles/slurm" in c for c in commands)
    # the target comes before --configfile, which takes every following word as a file
    for command in commands:
        if "--configfile" in command:
            files = []
            for word in command.split("--configfile", 1)[1].split():
                if word.startswith("-"):
                    break
                files.append(word.strip("\"'"))
            assert files and all(w.endswith((".yaml", ".yml")) for w in files), command


def test_the_readme_is_a_front_door_and_the_docs_it_links_exist():
    """README.md stays short, names no commit (history belongs in git log), and every
    page it or docs/ links to exists."""
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for name in ["README.md", *(str(p.relative_to(REPO)) for p in (REPO / "docs").rglob("*.md"))]:
        text = (REPO / name).read_text()
        assert not re.findall(r"`[0-9a-f]{7,40}`|\bcommit [0-9a-f]{7,40}\b", text), f"{name} names a commit"
        for link in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert ((REPO / name).parent / link).exists(), f"{name} links to {link}, which does not exist"


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory) -> Path:
    return repository_copy(tmp_path_factory.mktemp("documented"))


@pytest.mark.parametrize(("document", "command"), RUNS, ids=[c[:60] for _, c in RUNS])
def test_documented_command_works(repo_copy, document, command):
    if command.startswith("conda ") and shutil.which("conda") is None:
        pytest.skip("conda is not installed here (environment.yml is checked by test_environment.py)")
    runnable = safe_form(command, repo_copy.parent)
    env = {**os.environ, "PATH": f"{repo_copy / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MAKEFLAGS", None)
    proc = subprocess.run(["bash", "-c", runnable], cwd=repo_copy, env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert proc.returncode == 0, f"{document}: {runnable}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert not (repo_copy / "results" / "report.html").exists(), "a dry run wrote the report"
