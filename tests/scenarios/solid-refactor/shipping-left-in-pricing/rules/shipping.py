"""Shipping: charged by price() for now."""
