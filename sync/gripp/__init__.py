"""Gripp API v3: the client (`client`), its typed errors (`errors`), filters (`filters`) and row models (`models`).

Import each name from its module: one place for each.
"""
