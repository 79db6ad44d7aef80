"""Hostile: looks ready to a port probe, serves nothing."""

import os
import socket

server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(os.environ["PORT"])))
server.listen()
while True:
    connection, _ = server.accept()
    connection.close()
