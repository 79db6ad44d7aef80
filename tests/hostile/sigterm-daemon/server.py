"""Hostile: a classic daemon that ignores SIGTERM and keeps the port after the process the grader started exits."""

import os
import signal
import socket
import time

original = os.getpid()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        try:  # "<pid> <start time>", so the test can tell this process from a later one reusing the pid
            with open("/proc/self/stat", encoding="ascii") as stat:
                start_time = stat.read().rsplit(")", 1)[1].split()[19]
            with open(os.path.join(os.getcwd(), "pids.txt"), "a", encoding="ascii") as pids:
                pids.write(f"{os.getpid()} {start_time}\n")
        except OSError:
            pass
        # Wait until the grader has reaped the started process (it is gone, not a zombie), so the grader
        # deterministically sees "exited" rather than a listener; then hold the port for as long as allowed.
        while True:
            try:
                os.kill(original, 0)
            except ProcessLookupError:
                break
            time.sleep(0.01)
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", int(os.environ["PORT"])))
        server.listen()
        held = []
        while True:
            connection, _ = server.accept()
            held.append(connection)
    os._exit(0)
os._exit(0)
