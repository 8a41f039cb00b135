"""Layer 1 of tools/ (see tools/__init__.py): the stand-ins for the cloud.

services starts nx-27017 (through nx27017_launcher), moto and localstripe
(through localstripe_launcher) on free loopback ports; each launcher's
patches are proved by its test beside it (test_nx27017_rules,
test_localstripe_rules, with the named checks of checks). Nothing here
imports tools.gateway or an entry point.
"""
