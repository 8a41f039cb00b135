"""The project's Python tooling: the stand-ins for the cloud, the local API
Gateway and the entry points of make's targets. Run from the repository's
root, as modules: `.venv/bin/python -m tools.stack test`.

Three layers, and imports go one way only (down the list, never up):

1. tools.standins: the stand-ins (standins.services starts them, with the
   processes a run starts and the cargo helpers; the launchers that patch
   nx-27017 and localstripe, beside their own tests and standins.checks).
   Imports nothing of tools/ outside tools.standins.
2. tools.gateway: the local API Gateway in front of the function binaries,
   routing by template.yaml. Imports tools.standins only.
3. The entry points: tools.stack (make's targets), tools.chaos,
   tools.contract, tools.readme_session, tools.bench, tools.layers and
   tools.test_stack_stop. May import the layers below; each other only as
   stack imports contract, readme_session and layers.

Every import of tools/ is package-absolute (`from tools.standins import
services`, `from tools import gateway`); a bare sibling name (`import
services`) is refused, and nothing edits sys.path. tools.layers checks all
of this (`python -m tools.stack lint`).
"""
