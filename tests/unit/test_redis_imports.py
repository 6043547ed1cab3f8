"""Only the keyed store's Redis backend and the connection and start-up checks under it talk to Redis: every
service reaches its state through `services/runtime/keyed_store.py`."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REDIS_MODULES = {
    "services/runtime/redis_connection.py",
    "services/runtime/redis_keyed_store.py",
    "services/runtime/startup_checks.py",
}


def imports_redis(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "redis" for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "redis" and node.level == 0:
            return True
    return False


def test_no_service_module_but_the_keyed_stores_redis_backend_imports_redis() -> None:
    importing = {
        path.relative_to(ROOT).as_posix()
        for folder in ("services", "schemas")
        for path in (ROOT / folder).rglob("*.py")
        if imports_redis(path)
    }
    assert importing == REDIS_MODULES
