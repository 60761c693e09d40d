"""Prefect flows: the nightly scorecard run and the quarterly settlement.

Each flow is a short recipe of the stage tasks in ``flows.stages``; the
deployments in ``prefect.yaml`` schedule them.
"""
