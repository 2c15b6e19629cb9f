// The TCP side of the unique-id rendezvous, run as a child process so the caller can wait for it
// synchronously (a collectives engine opens synchronously). `serve host:port peers idHex timeoutMs`: rank 0
// sends the id to `peers` connections, then exits 0. `fetch host:port timeoutMs`: a peer connects (retrying
// while rank 0 is not yet listening), prints the id as hex and exits 0. Exit 2 with a message on stderr when
// the time runs out.
export {};

const [mode, address, ...rest] = process.argv.slice(2);
const ID_BYTES = 128;

function parseAddress(a: string | undefined): { hostname: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(a ?? "");
  if (!m) fail(`expected host:port, found "${a}"`);
  return { hostname: m![1]!, port: Number(m![2]) };
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

const { hostname, port } = parseAddress(address);

if (mode === "serve") {
  const [peersText, idHex, timeoutText] = rest;
  const id = Buffer.from(idHex ?? "", "hex");
  if (id.length !== ID_BYTES) fail(`the unique id must be ${ID_BYTES} bytes, found ${id.length}`);
  let left = Number(peersText);
  setTimeout(() => fail(`${left} rank(s) did not connect to ${hostname}:${port} within ${timeoutText} ms`), Number(timeoutText));
  Bun.listen({
    hostname,
    port,
    socket: {
      open(socket) {
        socket.end(id);
        if (--left === 0) setTimeout(() => process.exit(0), 50);
      },
      data() {},
    },
  });
} else if (mode === "fetch") {
  const deadline = Date.now() + Number(rest[0]);
  const tryOnce = () =>
    new Promise<Buffer | null>((resolve) => {
      const chunks: Buffer[] = [];
      Bun.connect({
        hostname,
        port,
        socket: {
          data(_s, d) {
            chunks.push(Buffer.from(d));
          },
          close() {
            resolve(Buffer.concat(chunks));
          },
          connectError() {
            resolve(null);
          },
          error() {
            resolve(null);
          },
        },
      }).catch(() => resolve(null));
    });
  for (;;) {
    const got = await tryOnce();
    if (got && got.length === ID_BYTES) {
      process.stdout.write(got.toString("hex"));
      process.exit(0);
    }
    if (Date.now() > deadline) fail(`no unique id from rank 0 at ${hostname}:${port} before the timeout`);
    await Bun.sleep(50);
  }
} else {
  fail(`usage: rendezvous-worker.ts serve host:port peers idHex timeoutMs | fetch host:port timeoutMs`);
}
