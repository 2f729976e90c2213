"""SnelStart B2B API v2: the client (`client`), its errors (`errors`), `$filter` helpers (`odata`), auth and limits.

Import each name from its module: one place for each.
"""
