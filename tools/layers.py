"""tools/' one direction of imports, checked (run by `python -m tools.stack lint`).

    .venv/bin/python -m tools.layers

Reads every tools/**/*.py with `ast` (nothing is imported or run) and fails,
naming the file, the line and the import, when:

- a module imports a higher layer: tools.standins (1) imports tools.gateway
  (2) or an entry point (3), or tools.gateway imports an entry point;
- an entry point imports another one, except tools.stack (the entry point of
  make's targets, which runs tools.contract, tools.readme_session and this);
- a module of tools/ is imported by a bare sibling name (`import services`)
  or a relative import, instead of package-absolute
  (`from tools.standins import services`);
- a module touches sys.path.

The layers are those of tools/__init__.py.
"""

import ast
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
LAYER_NAMES = {0: "the package", 1: "the stand-ins", 2: "the gateway", 3: "an entry point"}
TOP = "tools.stack"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(TOOLS.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> int:
    if module == "tools":
        return 0
    if module == "tools.standins" or module.startswith("tools.standins."):
        return 1
    if module == "tools.gateway":
        return 2
    return 3


def files() -> list[Path]:
    return sorted(path for path in TOOLS.rglob("*.py") if "__pycache__" not in path.parts)


def imported(node: ast.AST, modules: set[str]) -> list[str]:
    """The modules of tools/ an import statement names (for `from a import b`,
    a.b when that is a module of tools/, else a)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == "tools"]
    if node.module is None or node.module.split(".")[0] != "tools":
        return []
    return [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
            for alias in node.names]


def problems() -> list[str]:
    paths = files()
    modules = {module_name(path) for path in paths}
    # Every name a sibling could be imported by bare: modules and subpackages of tools/.
    bare = {module.rsplit(".", 1)[-1] for module in modules if module != "tools"}
    found = []
    for path in paths:
        importer = module_name(path)
        where = path.relative_to(TOOLS.parent)
        tree = ast.parse(path.read_text(), filename=str(where))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "path" \
                    and isinstance(node.value, ast.Name) and node.value.id == "sys":
                found.append(f"{where}:{node.lineno}: touches sys.path (run from the repository's root with -m)")
                continue
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            statement = ast.unparse(node)
            if isinstance(node, ast.ImportFrom) and node.level:
                found.append(f"{where}:{node.lineno}: `{statement}`: relative; import package-absolute (tools....)")
                continue
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module]
            for name in names:
                if name.split(".")[0] in bare:
                    found.append(f"{where}:{node.lineno}: `{statement}`: {name.split('.')[0]} by bare sibling "
                                 "name; import package-absolute (tools....)")
            for target in imported(node, modules):
                if layer(target) > layer(importer):
                    found.append(f"{where}:{node.lineno}: `{statement}`: {importer} (layer {layer(importer)}, "
                                 f"{LAYER_NAMES[layer(importer)]}) imports {target} (layer {layer(target)}, "
                                 f"{LAYER_NAMES[layer(target)]})")
                elif layer(target) == layer(importer) == 3 and target != importer and importer != TOP:
                    found.append(f"{where}:{node.lineno}: `{statement}`: entry point {importer} imports entry "
                                 f"point {target} (only {TOP} imports entry points)")
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(problem, file=sys.stderr)
    if found:
        print(f"tools/ layers: {len(found)} import(s) against the direction "
              "(tools.standins <- tools.gateway <- entry points; see tools/__init__.py)", file=sys.stderr)
        return 1
    print(f"tools/ layers: {len(files())} files, imports go one way", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
