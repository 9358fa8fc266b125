"""The lowest versions pyproject.toml allows for the runtime dependencies on this Python, one pin a
line: `name>=X.Y` becomes `name==X.Y.*` (the floor's latest patch release). With --check, exit 1
unless each is what is installed (a test tool could have lifted one)."""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def pins() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = []
    for line in project["dependencies"]:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        floors = [s.version for s in requirement.specifier if s.operator == ">="]
        if len(floors) != 1 or floors[0].count(".") != 1:
            sys.exit(f"{line}: write its floor as name>=X.Y, so that it can be tested")
        found.append(Requirement(f"{requirement.name}=={floors[0]}.*"))
    return found


def main() -> None:
    if sys.argv[1:] != ["--check"]:
        print("\n".join(map(str, pins())))
        return
    installed = {pin.name: version(pin.name) for pin in pins()}
    print(" ".join(f"{name}=={v}" for name, v in installed.items()))
    wrong = [
        f"{pin.name} {installed[pin.name]}"
        for pin in pins()
        if installed[pin.name] not in pin.specifier
    ]
    if wrong:
        sys.exit(f"not the lowest allowed version: {', '.join(wrong)}")


if __name__ == "__main__":
    main()
