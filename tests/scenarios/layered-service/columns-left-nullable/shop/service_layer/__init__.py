"""Use cases, written against an abstract unit of work."""
