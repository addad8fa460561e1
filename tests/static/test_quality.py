"""Static checks of the workflow and the code: snakemake --lint, snakefmt, ruff."""

import subprocess
import sys
from pathlib import Path

from conftest import REPO, SNAKEMAKE

BIN = Path(sys.executable).parent


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)


def test_snakemake_lint_is_clean():
    proc = run([*SNAKEMAKE, "--lint"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Congratulations" in proc.stdout + proc.stderr


def test_snakefmt_is_clean():
    proc = run([str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_is_clean():
    for cmd in (["check", "."], ["format", "--check", "."]):
        proc = run([str(BIN / "ruff"), *cmd])
        assert proc.returncode == 0, proc.stdout + proc.stderr
