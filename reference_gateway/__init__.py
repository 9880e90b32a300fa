"""A small, strict implementation of the Hoop gateway's OIDC contract, with named mutants.

Run it with ``python -m reference_gateway`` (configured like Hoop, by environment
variables); ``--list-mutants`` lists the faults it can be started with.
"""
