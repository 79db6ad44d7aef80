"""Hostile: asks for 10 GiB of written memory at start-up."""

import os
import socket

hoard = b"\xff" * (10 * 1024**3)  # written, so every page would be real memory if no limit refused it
server = socket.socket()
server.bind(("127.0.0.1", int(os.environ["PORT"])))
server.listen()
while True:
    server.accept()[0].sendall(hoard[:1])
