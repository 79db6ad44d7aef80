"""Starts the shop's HTTP API: python3 server.py (PORT and DATABASE_URL from the environment)."""

from shop.entrypoints.http import main

if __name__ == "__main__":
    main()
