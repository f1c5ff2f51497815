"""The layers of docs/architecture.md hold: each part imports only what its row allows, and nothing imports in a circle.

Every `import` counts, also the lazy ones inside functions: a lazy import still makes one module need another.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "schedcli"

# part -> the parts it may import (besides itself). A part is a package (`store`, `jobs`, ...) or a top-level
# module; `amqp.delays` is pure arithmetic, kept apart so the time parser can read its limit.
ALLOWED = {
    "exceptions": set(),
    "amqp.delays": set(),
    "runtime": set(),
    "timetext": {"exceptions"},
    "settings": {"exceptions", "timetext"},
    "timeparse": {"exceptions", "amqp.delays", "timetext"},
    "store": {"exceptions", "settings"},
    "amqp": {"exceptions", "settings", "amqp.delays"},
    "send_recording": {"settings", "store", "amqp.delays"},
    "app": {"settings", "send_recording"},
    "worker": {"exceptions", "settings", "store", "amqp", "amqp.delays", "app"},
    "report": {"exceptions", "timeparse", "timetext", "store"},
    "jobs": {"exceptions", "settings", "timeparse", "store", "amqp", "amqp.delays", "worker"},
    "schedules": {"exceptions", "settings", "timeparse", "timetext", "store", "amqp", "amqp.delays", "jobs"},
    "doctor": {"exceptions", "settings", "store", "amqp", "amqp.delays", "worker", "jobs"},
    "articles": {"jobs", "store"},
    "tasks": {"exceptions", "settings", "timeparse", "report", "store", "worker", "articles"},
    "web": {"exceptions", "settings", "timeparse", "timetext", "store", "amqp", "amqp.delays", "jobs", "schedules", "worker",
            "doctor", "articles", "report", "runtime"},
    "cli": {"*"},
    "commands": {"*"},
    "__main__": {"cli"},
    "__init__": {"send_recording"},
}
ONLY_IN_THE_CLI = ("click", "rich")
NO_CELERY = ("exceptions", "amqp.delays", "settings", "timetext", "timeparse", "store", "report")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part_of(module: str) -> str:
    inner = module.split(".")[1:]
    if not inner:
        return "__init__"
    if inner[:2] == ["amqp", "delays"]:
        return "amqp.delays"
    return inner[0]


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            # `from schedcli.jobs import requests` names a module too
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {name: {imported for imported in imports_of(path) if imported in MODULES and imported != name}
         for name, path in MODULES.items()}


def test_every_part_has_a_row():
    assert {part_of(name) for name in MODULES} <= set(ALLOWED)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_the_parts_below_it(module):
    part = part_of(module)
    if "*" in ALLOWED[part]:
        return
    upward = sorted(imported for imported in GRAPH[module]
                    if part_of(imported) not in ALLOWED[part] | {part, "__init__"})
    assert not upward, f"{module} ({part}) imports {upward}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_click_and_rich_only_in_the_command_line(module):
    if part_of(module) in ("cli", "commands"):
        return
    used = sorted(name for name in imports_of(MODULES[module]) if name.split(".")[0] in ONLY_IN_THE_CLI)
    assert not used, f"{module} imports {used}"


@pytest.mark.parametrize("module", sorted(name for name in MODULES if part_of(name) in NO_CELERY))
def test_the_core_needs_no_celery(module):
    used = sorted(name for name in imports_of(MODULES[module]) if name.split(".")[0] in ("celery", "kombu", "amqp"))
    assert not used, f"{module} imports {used}"


def test_no_import_cycles():
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        path.append(module)
        for imported in sorted(GRAPH[module]):
            # A package's __init__ re-exporting its modules is not a cycle with them.
            if imported == module.rpartition(".")[0]:
                continue
            if state.get(imported) == "open":
                cycle = path[path.index(imported):] + [imported]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if imported not in state:
                visit(imported)
        path.pop()
        state[module] = "done"

    for module in sorted(MODULES):
        if module not in state:
            visit(module)


def test_each_package_says_what_it_is_and_what_it_may_import():
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert docstring, f"{init} has no docstring"
        assert "import" in docstring, f"{init}'s docstring does not say what the package may import"


def test_the_architecture_page_states_the_same_rules():
    """docs/architecture.md's table: a row per part, its "may import" cell the same parts as ALLOWED."""
    page = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    stated = {}
    for cells in (line.split(" | ") for line in page.splitlines() if line.startswith("| `schedcli/")):
        part = cells[0].removeprefix("| `schedcli/").rstrip("`").removesuffix("/").removesuffix(".py").replace("/", ".")
        may = cells[-1].rstrip(" |")
        stated[part] = {"*"} if may == "everything" else set() if may.startswith("nothing") else {
            name.strip() for name in may.split(",")}
    for part, allowed in ALLOWED.items():
        if part.startswith("__"):
            continue
        assert part in stated, f"docs/architecture.md has no row for {part}"
        assert stated[part] == allowed, f"{part}: the page says {sorted(stated[part])}, the rules {sorted(allowed)}"
