"""The performance yardstick: a scale generator and one benchmark command.

Runs from the repository (``python -m bench ...``); product code never
imports it. See bench/README.md.
"""
