"""``./run``'s helpers: run a tox environment's commands under a supervisor that stops them all on a signal.

Standard library only: it runs in ``./run``'s own virtual environment (``.run-venv``, tox alone).
"""
