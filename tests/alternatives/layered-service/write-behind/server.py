import os

from shop.entrypoints.http import serve

serve(int(os.environ["PORT"]), os.environ["DATABASE_URL"])
