"""channelops: channel-partner scorecards, rebate settlements and partner mail.

The package holds the stages the Prefect flows in ``flows/`` call: pull files
into the warehouse, run the dbt models, gate, publish and notify.
"""

__version__ = "0.1.0"
