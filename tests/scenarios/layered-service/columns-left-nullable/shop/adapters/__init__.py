"""Adapters to the outside world: PostgreSQL."""
