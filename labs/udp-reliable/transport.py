"""udp-reliable: one program, two roles (see README.md).

    PORT=7070 WINDOW=8000 python3 transport.py receive > received.bin
    ISN=4000000000 RTO_MS=200 python3 transport.py send 127.0.0.1 7070 < some-file
"""

import os
import struct
import sys
import zlib

HEADER = struct.Struct(">IIBBHI")  # seqno, ackno, flags, reserved, window, checksum: 16 bytes
SYN, ACK, FIN = 0x01, 0x02, 0x04
MAX_PAYLOAD = 1000
MAX_RETRANSMISSIONS = 5


def checksum(datagram: bytes) -> int:
    """CRC-32 of the datagram with its checksum field (bytes 12 to 15) set to zero."""
    return zlib.crc32(datagram[:12] + b"\0\0\0\0" + datagram[16:])


def receive(port: int, window: int) -> None:
    # TODO: bind a UDP socket to 127.0.0.1:port and answer every valid datagram with one acknowledgement;
    # write the stream's bytes to sys.stdout.buffer in order, exactly once, flushing before each acknowledgement.
    print("TODO: implement the receiver (see README.md)", file=sys.stderr)
    sys.exit(1)


def send(host: str, port: int, isn: int, rto_ms: int) -> None:
    data = sys.stdin.buffer.read()
    # TODO: SYN, then data segments within the receiver's window, then FIN; one retransmission timer;
    # exit 0 once the FIN is acknowledged, 1 after giving up.
    print(f"TODO: implement the sender (see README.md); {len(data)} bytes to send", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    if sys.argv[1:2] == ["receive"]:
        receive(int(os.environ["PORT"]), int(os.environ["WINDOW"]))
    elif sys.argv[1:2] == ["send"] and len(sys.argv) == 4:
        send(sys.argv[2], int(sys.argv[3]), int(os.environ["ISN"]), int(os.environ["RTO_MS"]))
    else:
        sys.exit("usage: transport.py receive | transport.py send HOST PORT")


if __name__ == "__main__":
    main()
