"""lsm-store starter: an LSM-tree key-value server.

Read README.md first: it is the complete specification, and the grader checks exactly what it says.

Run it with:   PORT=7070 DATA_DIR=/tmp/lsm-data MEMTABLE_BYTES=4096 python3 server.py
Grade it with: labkit grade lsm-store

As shipped, this file reports that it is not written yet and exits with status 1, so the first stage fails
with "exited before it was ready". Replace the TODOs below.
"""

import os
import sys

HOST = "127.0.0.1"
MAX_FRAME = 4 * 1024 * 1024
MAX_KEY = 1024
MAX_VALUE = 65536
GET, SET, DELETE, SCAN, STATS = 0x01, 0x02, 0x03, 0x04, 0x05
OK, NOT_FOUND, ERROR = 0x00, 0x01, 0x02


def main() -> None:
    port = int(os.environ["PORT"])
    data_dir = os.environ["DATA_DIR"]
    memtable_bytes = int(os.environ.get("MEMTABLE_BYTES", "65536"))
    # TODO: recover from DATA_DIR: replay DATA_DIR/wal/<n>.wal in order, dropping (and cutting) a torn tail.
    # TODO: listen on (HOST, port) and answer GET, SET, DELETE, SCAN and STATS (README.md, "The protocol").
    # TODO: log every change to the WAL and fsync before replying; flush the memtable past memtable_bytes;
    #       compact SSTables; give each SSTable a bloom filter.
    print(f"TODO: implement the store in {data_dir} on {HOST}:{port}, memtable {memtable_bytes} B", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
