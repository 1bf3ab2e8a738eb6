"""Queries. Services call these; nothing here commits."""
