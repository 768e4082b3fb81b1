"""Every table module: ``import models.tables`` registers all the tables on ``SQLModel.metadata``.

The migrations' autogenerate (models/migrations/env.py) and the checks that compare the whole
schema need every table; a stage imports only the table modules it uses (models/__init__.py).
"""

from __future__ import annotations

from models import accounts, cases, exchange, ops, people, policy

#: The table modules, in no particular order (each imports the modules its foreign keys name).
TABLE_MODULES = (accounts, cases, exchange, ops, people, policy)
