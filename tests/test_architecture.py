"""The layout's promises, held by reading the imports of every module (nothing is run)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "site_builder"
PRODUCTS = ("cases", "website", "digest", "leaflets")
# What a product may use of the build machinery: the contract (what it is asked to make, the
# Output protocol, the types it hands the writer, the one key function), the fork pool and the
# caches it reads. The writer, the swap, the pipeline and the plan are the build's own.
BUILD_FOR_PRODUCTS = {"request", "outputs", "artifacts", "keys", "parallel", "cache", "case_cache"}


def _imports(path: Path) -> set[str]:
    """Every site_builder module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("site_builder"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("site_builder"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def test_products_never_import_the_build_internals_or_the_commands() -> None:
    broken = []
    for product in PRODUCTS:
        for path in _modules(product):
            for name in _imports(path):
                parts = name.split(".")
                if parts[1:2] == ["build"] and len(parts) > 2 and parts[2] not in BUILD_FOR_PRODUCTS:
                    broken.append(f"{path.relative_to(ROOT)} imports {name}")
                if parts[1:2] in (["cli"], ["preview"], ["scaffold"]):
                    broken.append(f"{path.relative_to(ROOT)} imports {name}")
    assert broken == []


def test_cases_and_settings_know_nothing_of_the_products() -> None:
    """Data flows one way: files -> cases -> products; the model never reaches for a renderer."""
    broken = [
        f"{path.relative_to(ROOT)} imports {name}"
        for folder in ("cases", "settings")
        for path in _modules(folder)
        for name in _imports(path)
        if name.split(".")[1:2] in (["website"], ["digest"], ["leaflets"])
    ]
    assert broken == []


def test_the_rule_sees_a_violation(tmp_path: Path) -> None:
    """The check above reads function-level imports too (a test that cannot fail is no test)."""
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from site_builder.build import writer\n    return writer\n", encoding="utf-8")
    assert "site_builder.build.writer" in _imports(module)


def test_every_package_says_what_it_holds() -> None:
    for init in sorted(PACKAGE.rglob("__init__.py")):
        assert ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))), f"{init} has no docstring"
