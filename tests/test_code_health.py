"""Rules of the code's shape that a reviewer would otherwise have to remember:
views stay thin (no SQL in console/web or console/api), and no module reaches
into another console module's private (``_name``) parts."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSOLE = ROOT / "console"
SOURCES = sorted([*CONSOLE.rglob("*.py"), *(ROOT / "monitors").rglob("*.py")])
VIEWS = sorted([*(CONSOLE / "web").glob("*.py"), *(CONSOLE / "api").glob("*.py")])


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _private(name):
    return name.startswith("_") and not name.startswith("__")


def _resolve(path, here, node):
    """The absolute module a ``from ... import`` in module ``here`` names."""
    if node.level == 0:
        return node.module or ""
    package = here.split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def private_imports(path, here=None):
    """(line, what) of each private name ``path`` (module ``here``) takes from another console module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = here or _module_name(path)
    found = []
    modules = {}  # local name -> console module imported as such
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _resolve(path, here, node)
            for alias in node.names:
                if source.split(".")[0] in ("console", "monitors") and source != here and _private(alias.name):
                    found.append((node.lineno, f"from {source} import {alias.name}"))
                modules[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("console", "monitors"):
                    modules[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name):
            target = modules.get(node.value.id)
            if target and target.split(".")[0] in ("console", "monitors") and target != here and _is_module(target):
                found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return found


def _is_module(dotted):
    relative = Path(*dotted.split("."))
    return (ROOT / relative).with_suffix(".py").exists() or (ROOT / relative / "__init__.py").exists()


def sql_calls(path):
    """(line, call) of each db.query / db.execute / .execute( in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, ast.unparse(node.func))
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("query", "execute", "executemany", "executescript")
    ]


def test_the_checks_find_what_they_look_for(tmp_path):
    """The two checks below would fail on the shapes they forbid (they are not vacuous)."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from ..complainants import _row\nfrom .. import documents\n\n\ndef view(db):\n    db.query('SELECT 1')\n    return documents._pdf\n", encoding="utf-8"
    )
    assert [what for _line, what in private_imports(sample, "console.web.sample")] == ["from console.complainants import _row", "documents._pdf"]
    assert sql_calls(sample) == [(6, "db.query")]


def test_no_module_imports_a_private_name_of_another_console_module():
    found = [f"{path.relative_to(ROOT)}:{line}: {what}" for path in SOURCES for line, what in private_imports(path)]
    assert found == [], "give these names a public name in their module:\n" + "\n".join(found)


def test_views_run_no_sql():
    found = [f"{path.relative_to(ROOT)}:{line}: {call}" for path in VIEWS for line, call in sql_calls(path)]
    assert found == [], "move these queries into a named domain function:\n" + "\n".join(found)


# Functions still allowed the tail: none (complainants._audit_number_search, the last, takes a Caller).
LONG_TAIL_LEFT = set()


def test_domain_functions_take_a_caller_not_the_viewer_actor_now_tail():
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                names = [a.arg for a in node.args.args + node.args.kwonlyargs]
                tail = any(names[i : i + 3] == ["viewer", "actor", "now"] for i in range(len(names)))
                where = f"{path.relative_to(ROOT)}:{node.name}"
                if tail and where not in LONG_TAIL_LEFT:
                    found.append(where)
    assert found == [], "take a console.caller.Caller instead:\n" + "\n".join(found)
