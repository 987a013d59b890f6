"""pyproject.toml, requirements.lock and the installed venv agree (`make lock` regenerates the lock)."""

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
UPPER_BOUND_OPERATORS = {"<", "<=", "==", "===", "~="}
SETUPTOOLS_FIX = Version("78.1.1")  # CVE-2025-47273


def lock_entries(text: str) -> dict[str, tuple[Requirement, list[str]]]:
    """Each pin of a `--generate-hashes` lock: canonical name -> (requirement, its hashes)."""
    entries = {}
    for line in text.replace("\\\n", " ").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *options = line.split(" --")
        req = Requirement(spec)
        hashes = [o.split("=", 1)[1].strip() for o in options if o.startswith("hash=")]
        entries[canonicalize_name(req.name)] = (req, hashes)
    return entries


def pinned_version(req: Requirement) -> str | None:
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version:
        return specs[0].version
    return None


def project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    return [Requirement(r) for r in project["dependencies"] + [r for group in extras.values() for r in group]]


@pytest.fixture(scope="module")
def lock():
    return lock_entries(LOCK.read_text())


def test_lock_entries_parse_pins_and_hashes():
    text = "foo-bar==1.2 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n    # via x\nbaz==3 \\\n    --hash=sha256:cc\n"
    entries = lock_entries(text)
    assert {n: (pinned_version(r), h) for n, (r, h) in entries.items()} == {
        "foo-bar": ("1.2", ["sha256:aa", "sha256:bb"]),
        "baz": ("3", ["sha256:cc"]),
    }


def test_every_pin_is_exact_and_hashed(lock):
    assert len(lock) > 50
    for name, (req, hashes) in lock.items():
        assert pinned_version(req), f"{name}: {req} is not pinned to one version"
        assert hashes and all(h.startswith("sha256:") for h in hashes), f"{name}: no sha256 hash in {LOCK.name}"


def test_every_project_dependency_is_locked_within_its_specifier(lock):
    for req in project_requirements():
        name = canonicalize_name(req.name)
        assert name in lock, f"{req} is in pyproject.toml but not in {LOCK.name}: run make lock"
        version = pinned_version(lock[name][0])
        assert req.specifier.contains(version, prereleases=True), f"{LOCK.name} pins {name}=={version}, outside {req}"


def test_extras_of_project_dependencies_are_locked(lock):
    for req in project_requirements():
        for extra in req.extras:
            wanted = [Requirement(r) for r in metadata.requires(req.name) or []]
            wanted = [r for r in wanted if r.marker and r.marker.evaluate({"extra": extra})]
            assert wanted, f"{req.name} has no extra {extra!r}"
            missing = [str(r) for r in wanted if canonicalize_name(r.name) not in lock]
            assert not missing, f"{req.name}[{extra}] needs {missing}, not in {LOCK.name}: run make lock"


def test_every_project_dependency_has_an_upper_bound():
    for req in project_requirements():
        assert {s.operator for s in req.specifier} & UPPER_BOUND_OPERATORS, f"pyproject.toml: {req} has no upper bound"


def test_installed_environment_matches_the_lock(lock):
    wrong = {}
    for name, (req, _) in lock.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None or Version(installed) != Version(pinned_version(req)):
            wrong[name] = (installed, pinned_version(req))
    assert not wrong, f"installed (version, locked version) differ, run make install: {wrong}"


def test_venv_setuptools_has_the_cve_2025_47273_fix(lock):
    assert Version(pinned_version(lock["setuptools"][0])) >= SETUPTOOLS_FIX
    assert Version(metadata.version("setuptools")) >= SETUPTOOLS_FIX

