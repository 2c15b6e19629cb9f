// A local stand-in for the Hugging Face Hub, answering the endpoints @huggingface/hub calls:
//   GET /api/{models|datasets}/{id}/revision/{rev}   repo info with its commit sha
//   GET /api/{models|datasets}/{id}/tree/{rev}       the file list (size, git oid, lfs sha256)
//   GET|HEAD /[datasets/]{id}/resolve/{rev}/{path}   the file, with X-Repo-Commit, ETag, X-Linked-Etag and
//                                                    X-Linked-Size (LFS), and Range requests (206)
// Files with an LFS extension are served as LFS files. A gated repo answers 401 unless the request
// carries its token. `dropOnce` makes the first full GET of a file close the connection half-way.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export interface FakeRepo {
  readonly type: "model" | "dataset";
  readonly id: string;
  /** Local folder whose files the repo holds. */
  readonly dir: string;
  readonly commit: string;
  readonly gatedToken?: string;
}

export interface FakeHub {
  readonly url: string;
  readonly requests: string[];
  /** Paths whose next full download is cut off half-way. */
  readonly dropOnce: Set<string>;
  /** Paths served with their bytes changed (a corrupted mirror). */
  readonly corrupt: Set<string>;
  stop(): void;
}

const LFS = /\.(safetensors|parquet|bin)$/;

interface Served {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly oid: string;
  readonly sha256?: string;
}

function gitOid(bytes: Uint8Array): string {
  const h = new Bun.CryptoHasher("sha1");
  h.update(`blob ${bytes.length}\0`);
  h.update(bytes);
  return h.digest("hex");
}

function filesOf(dir: string): Served[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((p) => join(dir, p))
    .filter((p) => statSync(p).isFile())
    .sort()
    .map((p) => {
      const bytes = new Uint8Array(readFileSync(p));
      const path = relative(dir, p);
      return { path, bytes, oid: gitOid(bytes), ...(LFS.test(path) && { sha256: new Bun.CryptoHasher("sha256").update(bytes).digest("hex") }) };
    });
}

export function startFakeHub(repos: readonly FakeRepo[]): FakeHub {
  const requests: string[] = [];
  const dropOnce = new Set<string>();
  const corrupt = new Set<string>();
  const table = repos.map((r) => ({ repo: r, files: filesOf(r.dir) }));
  const find = (type: string, id: string) => table.find((t) => t.repo.type === type && t.repo.id === id);
  const denied = (repo: FakeRepo, req: Request) =>
    repo.gatedToken !== undefined && req.headers.get("authorization") !== `Bearer ${repo.gatedToken}`
      ? Response.json({ error: `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it.` }, { status: 401 })
      : undefined;
  const notFound = (code: string) => new Response("not found", { status: 404, headers: { "X-Error-Code": code } });

  const server = Bun.serve({
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      requests.push(`${req.method} ${url.pathname}${req.headers.get("range") ? ` ${req.headers.get("range")}` : ""}`);
      const api = url.pathname.match(/^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/(revision|tree)\/([^/?]+)/);
      if (api) {
        const entry = find(api[1]!.slice(0, -1), api[2]!);
        if (!entry) return notFound("RepoNotFound");
        const refused = denied(entry.repo, req);
        if (refused) return refused;
        if (api[3] === "revision")
          return Response.json({ _id: "x", id: entry.repo.id, sha: entry.repo.commit, private: false, gated: !!entry.repo.gatedToken });
        return Response.json(
          entry.files.map((f) => ({
            type: "file",
            path: f.path,
            size: f.bytes.length,
            oid: f.oid,
            ...(f.sha256 && { lfs: { oid: f.sha256, size: f.bytes.length, pointerSize: 134 } }),
          })),
        );
      }
      const file = url.pathname.match(/^\/(datasets\/)?([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
      if (!file) return notFound("EntryNotFound");
      const entry = find(file[1] ? "dataset" : "model", file[2]!);
      if (!entry) return notFound("RepoNotFound");
      const refused = denied(entry.repo, req);
      if (refused) return refused;
      const served = entry.files.find((f) => f.path === decodeURIComponent(file[4]!));
      if (!served) return notFound("EntryNotFound");
      let bytes = served.bytes;
      if (corrupt.has(served.path)) bytes = bytes.map((b, i) => (i === 0 ? b ^ 1 : b));
      const headers: Record<string, string> = {
        "X-Repo-Commit": entry.repo.commit,
        ETag: `"${served.oid}"`,
        "Accept-Ranges": "bytes",
        "Content-Type": "application/octet-stream",
        ...(served.sha256 && { "X-Linked-Etag": `"${served.sha256}"`, "X-Linked-Size": String(bytes.length) }),
      };
      const range = req.headers.get("range")?.match(/^bytes=(\d+)-(\d*)$/);
      if (req.method === "HEAD") return new Response(null, { headers: { ...headers, "Content-Length": String(bytes.length) } });
      if (range) {
        const start = Number(range[1]);
        const end = range[2] === "" ? bytes.length - 1 : Math.min(Number(range[2]), bytes.length - 1);
        return new Response(bytes.slice(start, end + 1), { status: 206, headers: { ...headers, "Content-Range": `bytes ${start}-${end}/${bytes.length}` } });
      }
      if (dropOnce.delete(served.path)) {
        const half = bytes.slice(0, bytes.length >> 1);
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(half);
            // The body ends half-way (a chunked response cut short): the client sees fewer bytes than listed.
            setTimeout(() => controller.close(), 20);
          },
        });
        return new Response(body, { headers: { ...headers, "Content-Length": String(bytes.length) } });
      }
      return new Response(bytes, { headers });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, dropOnce, corrupt, stop: () => server.stop(true) };
}
