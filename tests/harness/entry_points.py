"""From a container's command to the code it runs: the entry module and the settings class it reads.

Shared by the checks of docker-compose.yml and of the Helm chart, so both judge their environment variables
against the same settings classes.
"""

import importlib
import tomllib
from pathlib import Path

from services.runtime.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]


def scripts() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    found: dict[str, str] = project["project"]["scripts"]
    return found


def entry_module(command: list[str]) -> str:
    """The Python module a container command runs: a [project.scripts] name or `python -m module`."""
    if command[:2] == ["python", "-m"]:
        return command[2]
    assert command[0] in scripts(), f"{command[0]} is not in [project.scripts]"
    return scripts()[command[0]].partition(":")[0]


def settings_class(module: str) -> type[ServiceSettings]:
    """The settings class of the service a module belongs to (`services.<name>.settings`), else the shared one."""
    package = ".".join(module.split(".")[:2])
    try:
        settings_module = importlib.import_module(f"{package}.settings")
    except ModuleNotFoundError:
        return ServiceSettings
    candidates = [
        value
        for value in vars(settings_module).values()
        if isinstance(value, type) and issubclass(value, ServiceSettings) and value is not ServiceSettings
    ]
    assert len(candidates) <= 1, f"{package}.settings should hold one ServiceSettings subclass"
    return candidates[0] if candidates else ServiceSettings
