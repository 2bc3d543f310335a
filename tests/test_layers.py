"""The apps are layers (organizations ← brands ← evaluations ← scores ← dashboards): the import-linter contract holds,
and it fails on an import that goes up."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["config", "organizations", "brands", "evaluations", "scores", "dashboards"]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_layer_contract_holds_and_fails_on_an_upward_import(tmp_path):
    assert lint_imports(ROOT).returncode == 0
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "brands" / "upward.py").write_text("from scores import selectors\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "brands is not allowed to import scores" in result.stdout
