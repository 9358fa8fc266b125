"""What a user downloads: `python -m build` makes an sdist that carries the license, the tests and
the sample data they read, and a wheel with the license and the package's data, and the metadata
PyPI shows. One build serves every test here (about 15 s: it installs setuptools in isolation)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    completed = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


def sdist_names(path: Path) -> set[str]:
    with tarfile.open(path) as tar:
        # Each name below the one top folder, lossdoctor-X.Y.Z/.
        return {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}


def wheel_names(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as wheel:
        return set(wheel.namelist())


@pytest.mark.slow
def test_sdist_carries_the_license_and_every_sample_the_tests_read(dist):
    names = sdist_names(dist["sdist"])
    tracked = subprocess.run(
        ["git", "ls-files", "sample_data", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tracked, "git ls-files found no sample data"
    assert "LICENSE" in names
    assert {"action.yml", "action/pr_comment.py", ".pre-commit-hooks.yaml"} <= names
    assert sorted(set(tracked) - names) == []
    assert not any("__pycache__" in name for name in names)


@pytest.mark.slow
def test_wheel_carries_the_license_and_the_json_schema_but_no_tests(dist):
    names = wheel_names(dist["wheel"])
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert "lossdoctor/schema/report.schema.json" in names
    assert not any(name.startswith(("tests/", "sample_data/")) for name in names)


@pytest.mark.slow
def test_wheel_metadata_has_the_license_urls_and_classifiers(dist):
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        headers = Parser().parsestr(wheel.read(metadata).decode())
    assert headers["License-Expression"] == "MIT"
    urls = dict(value.split(", ", 1) for value in headers.get_all("Project-URL"))
    assert {"Homepage", "Repository", "Issues"} <= set(urls)
    classifiers = headers.get_all("Classifier")
    assert "Programming Language :: Python :: 3.10" in classifiers
    assert not any(c.startswith("License ::") for c in classifiers)  # the expression says it


def test_license_is_the_mit_text():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Copyright (c) lossdoctor contributors" in text
    assert "WITHOUT WARRANTY OF ANY KIND" in text


def test_built_files_are_ignored_by_git():
    ignored = subprocess.run(
        ["git", "check-ignore", "dist/x.whl", "build/x", "x.egg-info/PKG-INFO"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert ignored.stdout.split() == ["dist/x.whl", "build/x", "x.egg-info/PKG-INFO"]
