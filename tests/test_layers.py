"""Imports go one way: the layers contract of pyproject.toml, run by import-linter over pecrs's modules, imports
inside functions included; it covers every stage, and it breaks on an import that goes up or sideways."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from importlinter.api import read_configuration

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "pyproject.toml"


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    """import-linter's command over the packages found in ``tree``, with pyproject.toml's contract."""
    command = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
               "--no-cache", str(CONFIG)]
    return subprocess.run(command, capture_output=True, text=True, cwd=tree, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(tree)})


def layered_modules() -> list[str]:
    (contract,) = read_configuration(str(CONFIG))["contracts_options"]
    return [name.strip() for layer in contract["layers"] for name in layer.split("|")]


def test_imports_keep_to_the_layers():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 kept, 0 broken" in done.stdout


def test_every_stage_is_in_a_layer():
    stages = {f"pipeline.{path.stem}" for path in (ROOT / "pipeline").iterdir()
              if (path.suffix == ".py" and path.name != "__init__.py") or (path / "__init__.py").is_file()}
    assert sorted(set(layered_modules())) == sorted(stages | {"extractors"})


@pytest.mark.parametrize("module, imported", [
    ("pipeline/settings.py", "pipeline.cli.app"),  # the bottom importing the top
    ("extractors/cases.py", "pipeline.run.flows"),  # the extractors importing the run that calls them
    ("pipeline/web/app.py", "pipeline.run.flows"),  # siblings
])
def test_an_import_against_the_layers_breaks_the_contract(tmp_path, module, imported):
    for package in ("pipeline", "extractors"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "resources"))
    with open(tmp_path / module, "a", encoding="utf-8") as source:
        source.write(f"\n\ndef _upwards():\n    import {imported}  # inside a function: it counts\n")
    done = lint_imports(tmp_path)
    importer = module.removesuffix(".py").replace("/", ".")
    assert done.returncode == 1 and "0 kept, 1 broken" in done.stdout
    assert f"{importer} -> {imported}" in done.stdout
