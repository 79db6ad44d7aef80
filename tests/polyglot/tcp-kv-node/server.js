// tcp-kv in Node.js, written from labs/tcp-kv/README.md: the kit's proof that a program in another language is
// graded alike in process mode and in the polyglot sandbox. One event loop; every connection keeps a buffer of
// what it has received and answers each complete frame in order.
"use strict";
const net = require("net");

const MAX_FRAME = 4194304;
const MAX_KEY = 1024;
const OK = 0, NOT_FOUND = 1, ERROR = 2;
const GET = 1, SET = 2, DELETE = 3;

const store = new Map(); // key bytes as a latin1 string (one char per byte) -> value Buffer

function frame(status, payload = Buffer.alloc(0)) {
  const out = Buffer.alloc(5 + payload.length);
  out.writeUInt32BE(1 + payload.length, 0);
  out[4] = status;
  payload.copy(out, 5);
  return out;
}

const error = (text) => frame(ERROR, Buffer.from(text, "utf8"));

function answer(body) {
  if (body.length === 0) return error("empty frame");
  if (body.length < 3) return error("body shorter than 3 bytes");
  const opcode = body[0];
  if (opcode !== GET && opcode !== SET && opcode !== DELETE) {
    return error(`unknown opcode 0x${opcode.toString(16).padStart(2, "0")}`);
  }
  const keyLength = body.readUInt16BE(1);
  if (keyLength === 0 || keyLength > MAX_KEY) return error(`key_len ${keyLength} is not 1 to ${MAX_KEY}`);
  if (keyLength > body.length - 3) return error("key_len runs past the end of the body");
  const key = body.toString("latin1", 3, 3 + keyLength);
  const rest = body.subarray(3 + keyLength);
  if (opcode === SET) {
    store.set(key, Buffer.from(rest)); // a copy: the body's buffer is reused for later frames
    return frame(OK);
  }
  if (rest.length > 0) return error("bytes after the key of a GET or DELETE");
  if (opcode === GET) return store.has(key) ? frame(OK, store.get(key)) : frame(NOT_FOUND);
  return store.delete(key) ? frame(OK) : frame(NOT_FOUND);
}

const sockets = new Set();

const server = net.createServer((socket) => {
  sockets.add(socket);
  let pending = Buffer.alloc(0);
  let closing = false;
  socket.on("data", (chunk) => {
    if (closing) return;
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4) {
      const length = pending.readUInt32BE(0);
      if (length > MAX_FRAME) {
        // Decided from the header alone: the announced body is never awaited or allocated.
        closing = true;
        socket.end(error(`frame of ${length} bytes is larger than ${MAX_FRAME}`));
        pending = Buffer.alloc(0);
        return;
      }
      if (pending.length < 4 + length) return;
      socket.write(answer(pending.subarray(4, 4 + length)));
      pending = pending.subarray(4 + length);
    }
  });
  socket.on("error", () => {}); // a reset or a broken pipe ends this connection only
  socket.on("close", () => sockets.delete(socket));
});

process.on("SIGTERM", () => {
  // No new connections; each connection is closed once its replies are written: end() flushes what is queued,
  // and its callback then closes the socket whether or not the client closes its side.
  server.close(() => process.exit(0));
  for (const socket of sockets) socket.end(() => socket.destroy());
  // A client that never reads its reply must not keep the server alive past its 2 seconds.
  setTimeout(() => process.exit(0), 1500).unref();
});

server.listen(Number(process.env.PORT), "127.0.0.1");
