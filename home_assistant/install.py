"""Build (or reuse) a virtualenv holding one Home Assistant core release, for the check in this folder.

`pip install homeassistant==X` alone backtracks for a long time; the release's wheel pins its own
dependencies in `homeassistant/package_constraints.txt`, so this installs the wheel under those
constraints, plus the requirements of the integrations the check loads (and of their dependencies,
read from each integration's manifest in the wheel). The environment is kept in
$XDG_CACHE_HOME/lamplighter/ha-<version>-py<X.Y> (outside the clone, so CI reuses it); a finished
one has `installed.json` with how long the install took.

    python home_assistant/install.py 2025.4.4 /path/to/python3.13   # prints the environment's path
"""

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

# What the check configures (configuration.yaml); Home Assistant also sets up, whatever the
# configuration, the integrations its bootstrap module lists (read from the wheel: they change).
INTEGRATIONS = ("http", "api", "websocket_api", "config", "onboarding", "mqtt")
BOOTSTRAP_SETS = ("CORE_INTEGRATIONS", "LOGGING_AND_HTTP_DEPS_INTEGRATIONS", "DEFAULT_INTEGRATIONS")
# Later releases of unpinned dependencies that break older cores: josepy 2 dropped what the acme
# package under 2024.x's hass-nabucasa imports (the http integration fails to import).
LATER_BREAKAGE = ("josepy<2",)
MARKER = "installed.json"
RECIPE = 3  # raised when what is installed changes: an environment of another recipe is rebuilt


def cache_root() -> Path:
    """Where the environments live: $XDG_CACHE_HOME/lamplighter (default ~/.cache/lamplighter)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lamplighter"


def python_tag(python: str) -> str:
    """X.Y of the interpreter at `python`."""
    out = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def integration_requirements(wheel: zipfile.ZipFile, names: tuple[str, ...]) -> list[str]:
    """The pip requirements of the named integrations and of everything they depend on."""
    seen: set[str] = set()
    requirements: list[str] = []
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            manifest = json.loads(wheel.read(f"homeassistant/components/{name}/manifest.json"))
        except KeyError:
            continue  # not an integration of this release
        requirements.extend(manifest.get("requirements", []))
        todo.extend(manifest.get("dependencies", []))
    return sorted(set(requirements))


def bootstrap_integrations(wheel: zipfile.ZipFile) -> tuple[str, ...]:
    """The integrations the release's bootstrap sets up without being configured."""
    tree = ast.parse(wheel.read("homeassistant/bootstrap.py"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id in BOOTSTRAP_SETS for target in node.targets
        ):
            names |= set(ast.literal_eval(node.value))
    return tuple(sorted(names))


def install(version: str, python: str, root: Path) -> Path:
    """The path of a finished environment for `version` on `python`, built first when missing."""
    env = root / f"ha-{version}-py{python_tag(python)}"
    if (env / MARKER).is_file() and (env / "bin" / "hass").is_file():
        if json.loads((env / MARKER).read_text()).get("recipe") == RECIPE:
            return env
    if env.exists():
        shutil.rmtree(env)  # an install that was cut short
    root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    subprocess.run([python, "-m", "venv", str(env)], check=True)
    pip = [str(env / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    with tempfile.TemporaryDirectory() as download:
        subprocess.run(
            [*pip, "download", "--no-deps", "-d", download, f"homeassistant=={version}"], check=True
        )
        wheel_path = next(Path(download).glob("homeassistant-*.whl"))
        with zipfile.ZipFile(wheel_path) as wheel:
            constraints = Path(download) / "package_constraints.txt"
            constraints.write_bytes(
                wheel.read("homeassistant/package_constraints.txt")
                + "\n".join(("", *LATER_BREAKAGE, "")).encode()
            )
            extra = integration_requirements(wheel, INTEGRATIONS + bootstrap_integrations(wheel))
        subprocess.run([*pip, "install", "-c", str(constraints), str(wheel_path), *extra], check=True)
    seconds = round(time.monotonic() - started, 1)
    (env / MARKER).write_text(
        json.dumps(
            {
                "version": version,
                "python": python,
                "recipe": RECIPE,
                "requirements": extra,
                "seconds": seconds,
            }
        )
        + "\n"
    )
    return env


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, install (or reuse), print the environment's path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help="Home Assistant release, e.g. 2025.4.4")
    parser.add_argument("python", help="interpreter to build the environment with")
    parser.add_argument("--cache", type=Path, default=None, help="folder of the environments")
    args = parser.parse_args(argv)
    if not shutil.which(args.python) and not Path(args.python).is_file():
        parser.error(f"no interpreter at {args.python}")
    env = install(args.version, args.python, args.cache or cache_root())
    print(env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
