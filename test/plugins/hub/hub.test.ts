// Models and datasets by Hub id against a local fake Hub (fake-hub.ts; no test touches the network):
// download into the shared HF cache layout and load by id, a second load from the cache with the
// server stopped, a dropped connection resumed with a Range request, a corrupted file refused by its
// sha256, a gated repo's 401 naming HF_TOKEN, HF_HUB_OFFLINE with a cache miss, a local folder winning
// over an id, and a dataset_info entry with hf_hub_url read from a downloaded dataset repo.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../dsl/cli.ts";
import { captureIO, chatAnswers, lft } from "../runner/helpers.ts";
import { type FakeHub, startFakeHub } from "./fake-hub.ts";

const REPO = join(import.meta.dir, "../../..");
const work = mkdtempSync(join(tmpdir(), "lft-hub-"));
const tiny = join(work, "tiny");
const data = join(work, "data-repo");
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const DATA_COMMIT = "fedcba9876543210fedcba9876543210fedcba98";
const TOKEN = "hf_gatedtoken";
let hub: FakeHub;
/** What the local folder answers: every load by id must answer the same. */
let localAnswer: string[];
const saved = { ...process.env };

beforeAll(async () => {
  expect(await main(["make-tiny", "--family", "llama", "--out", tiny], captureIO(work))).toBe(0);
  mkdirSync(join(data, "data"), { recursive: true });
  cpSync(join(REPO, "examples/data/identity.json"), join(data, "data/train.json"));
  writeFileSync(join(data, "README.md"), "# a dataset card lft does not fetch\n");
  localAnswer = chatAnswers((await chat(tiny)).out, "Once upon a time");
  expect(localAnswer.length).toBe(1);
  hub = startFakeHub([
    { type: "model", id: "tiny-org/tiny-llama", dir: tiny, commit: COMMIT },
    { type: "model", id: "tiny-org/gated", dir: tiny, commit: COMMIT, gatedToken: TOKEN },
    { type: "dataset", id: "tiny-org/identity", dir: data, commit: DATA_COMMIT },
  ]);
}, 60_000);

afterAll(() => {
  hub.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A fresh cache and the fake Hub as endpoint; no token, not offline. */
function useCache(name: string): string {
  const cache = join(work, name);
  for (const k of ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"])
    delete process.env[k];
  process.env.HF_HOME = join(work, `${name}-home`);
  process.env.HF_HUB_CACHE = cache;
  process.env.HF_ENDPOINT = hub.url;
  hub.requests.length = 0;
  return cache;
}

afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

async function chat(model: string, cwd = work) {
  const io = captureIO(cwd);
  const code = await main(["chat", model, "--prompt", "Once upon a time", "--max-tokens", "6"], io);
  return { code, out: io.out(), err: io.err() };
}

test("a model by id is downloaded into the HF cache layout and answers as the local folder does", async () => {
  const cache = useCache("cache-a");
  const r = await chat("tiny-org/tiny-llama");
  expect(r.err).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(0);
  expect(chatAnswers(r.out, "Once upon a time")).toEqual(localAnswer);
  expect(r.err).toContain("downloading from");
  expect(r.err).toMatch(/model\.safetensors \(\d+\/\d+\) \[#+\] .* \(100%\)/);
  const folder = join(cache, "models--tiny-org--tiny-llama");
  expect(readFileSync(join(folder, "refs/main"), "utf8")).toBe(COMMIT);
  const weights = join(folder, "snapshots", COMMIT, "model.safetensors");
  expect(lstatSync(weights).isSymbolicLink()).toBe(true);
  const sha = new Bun.CryptoHasher("sha256").update(readFileSync(join(tiny, "model.safetensors"))).digest("hex");
  expect(readlinkSync(weights)).toBe(`../../blobs/${sha}`);
  expect(readFileSync(weights)).toEqual(readFileSync(join(tiny, "model.safetensors")));
  expect(hub.requests.some((q) => q.startsWith("GET /api/models/tiny-org/tiny-llama/tree/"))).toBe(true);

  // Second load with the Hub stopped: the cache alone.
  const stopped = startFakeHub([]);
  stopped.stop();
  process.env.HF_ENDPOINT = stopped.url;
  hub.requests.length = 0;
  const again = await chat("tiny-org/tiny-llama");
  expect(again.code).toBe(0);
  expect(chatAnswers(again.out, "Once upon a time")).toEqual(localAnswer);
  expect(hub.requests).toEqual([]);
  expect(again.err).not.toContain("downloading");
}, 60_000);

test("a dropped connection resumes from the bytes already written, with a Range request", async () => {
  useCache("cache-b");
  hub.dropOnce.add("model.safetensors");
  const r = await chat("tiny-org/tiny-llama@main");
  expect(r.code).toBe(0);
  expect(r.err).toMatch(/model\.safetensors.*connection lost at \d+ of \d+ bytes; resuming/);
  const resumed = hub.requests.filter((q) => /resolve\/.*model\.safetensors bytes=[1-9]\d*-/.test(q));
  expect(resumed.length).toBe(1);
  expect(chatAnswers(r.out, "Once upon a time")).toEqual(localAnswer);
}, 60_000);

test("a file whose sha256 does not match the Hub's LFS oid is refused and removed", async () => {
  const cache = useCache("cache-c");
  hub.corrupt.add("model.safetensors");
  try {
    const r = await chat("tiny-org/tiny-llama");
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/model\.safetensors: sha256 [0-9a-f]{64} does not match the Hub's [0-9a-f]{64}/);
    expect(existsSync(join(cache, "models--tiny-org--tiny-llama", "snapshots", COMMIT, "model.safetensors"))).toBe(false);
  } finally {
    hub.corrupt.clear();
  }
}, 60_000);

test("a gated repo's 401 names HF_TOKEN; with the token it downloads", async () => {
  useCache("cache-d");
  const denied = await chat("tiny-org/gated");
  expect(denied.code).not.toBe(0);
  expect(denied.err).toContain('model "tiny-org/gated"');
  expect(denied.err).toContain("HTTP 401");
  expect(denied.err).toContain("set HF_TOKEN");
  expect(denied.err).not.toMatch(/\n\s+at /);
  process.env.HF_TOKEN = TOKEN;
  const allowed = await chat("tiny-org/gated");
  expect(allowed.code).toBe(0);
}, 60_000);

test("HF_HUB_OFFLINE with a cache miss fails without asking the server; with a hit it loads", async () => {
  useCache("cache-e");
  process.env.HF_HUB_OFFLINE = "1";
  const miss = await chat("tiny-org/tiny-llama");
  expect(miss.code).not.toBe(0);
  expect(miss.err).toContain("not in the Hugging Face cache");
  expect(miss.err).toContain("HF_HUB_OFFLINE");
  expect(hub.requests).toEqual([]);
  delete process.env.HF_HUB_OFFLINE;
  expect((await chat("tiny-org/tiny-llama")).code).toBe(0);
  process.env.HF_HUB_OFFLINE = "1";
  expect((await chat("tiny-org/tiny-llama")).code).toBe(0);
}, 60_000);

test("a cache transformers wrote (plain files, refs/main) is used without asking the Hub; a revision picks its snapshot", async () => {
  const cache = useCache("cache-t");
  const folder = join(cache, "models--tiny-org--tiny-llama");
  cpSync(tiny, join(folder, "snapshots", COMMIT), { recursive: true });
  mkdirSync(join(folder, "refs"), { recursive: true });
  writeFileSync(join(folder, "refs/main"), COMMIT);
  process.env.HF_ENDPOINT = "http://127.0.0.1:9";
  expect((await chat("tiny-org/tiny-llama")).code).toBe(0);
  expect((await chat(`tiny-org/tiny-llama@${COMMIT}`)).code).toBe(0);
  const unknownRef = await chat("tiny-org/tiny-llama@v2");
  expect(unknownRef.code).not.toBe(0);
  expect(unknownRef.err).toContain('model "tiny-org/tiny-llama" at revision v2');
}, 60_000);

test("a local folder named like an id wins over the Hub", async () => {
  useCache("cache-f");
  const cwd = join(work, "project");
  cpSync(tiny, join(cwd, "tiny-org/tiny-llama"), { recursive: true });
  const r = await chat("tiny-org/tiny-llama", cwd);
  expect(r.code).toBe(0);
  expect(hub.requests).toEqual([]);
}, 60_000);

test("data preview --model takes a hub id", async () => {
  useCache("cache-g");
  const io = captureIO(REPO);
  const code = await main(
    [
      "data",
      "preview",
      "identity",
      "--dataset-dir",
      "test/fixtures/llamafactory-data",
      "--model",
      "tiny-org/tiny-llama",
      "--template",
      "alpaca",
      "--count",
      "1",
    ],
    io,
  );
  expect(io.err()).not.toMatch(/\n\s+at /);
  expect(code).toBe(0);
  expect(io.out()).toContain("⟦Below is an instruction");
}, 60_000);

test("a dataset_info entry with hf_hub_url is fetched into the cache and trained on; ms_hub_url is refused by name", async () => {
  const cache = useCache("cache-h");
  const dir = join(work, "ds-run");
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(
    join(dir, "data/dataset_info.json"),
    JSON.stringify({ identity_hub: { hf_hub_url: "tiny-org/identity", folder: "data" }, ms_only: { ms_hub_url: "someone/identity" } }),
  );
  const recipe = (name: string) => `model "${tiny}" { dtype = f32 }
dataset "${name}"
method lora { rank = 4 }
train sft for 1 steps { lr = 1e-3, batch = 2, cutoff = 64, output = "runs/x", log_every = 1 }
`;
  const r = await lft(dir, "hub.lft", recipe("identity_hub"));
  expect(r.err).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/data: \d+ .*identity_hub/);
  const snap = join(cache, "datasets--tiny-org--identity", "snapshots", DATA_COMMIT);
  expect(existsSync(join(snap, "data/train.json"))).toBe(true);
  expect(existsSync(join(snap, "README.md"))).toBe(false);
  const preview = captureIO(dir);
  expect(await main(["data", "preview", "identity_hub", "--model", tiny, "--template", "alpaca", "--count", "1"], preview)).toBe(0);
  expect(preview.out()).toContain("dataset identity_hub");
  expect(preview.out()).toContain("⟦Below is an instruction");
  const ms = await lft(dir, "ms.lft", recipe("ms_only"));
  expect(ms.code).not.toBe(0);
  expect(ms.err).toContain("ModelScope (ms_hub_url) is not supported");
}, 60_000);

test("a dpo ref_model given as a hub id is found before training starts", async () => {
  useCache("cache-i");
  const dir = join(work, "ref-run");
  mkdirSync(dir, { recursive: true });
  const r = await lft(
    dir,
    "ref.lft",
    `model "${tiny}" { dtype = f32 }
dataset "dpo_en_demo" { dir = "${join(REPO, "test/fixtures/llamafactory-data")}", max_samples = 4 }
method full
train dpo for 1 steps { ref_model = "tiny-org/tiny-llama", lr = 1e-4, batch = 2, cutoff = 48, log_every = 1, output = "runs/dpo" }
`,
  );
  expect(r.err).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(0);
  // Same weights as the trained model: the first step's log-ratios are 0, so the loss is ln 2.
  expect(r.err).toMatch(/step 1\/1 {2}loss 0\.6931/);
  expect(hub.requests.some((q) => q.includes("/api/models/tiny-org/tiny-llama/"))).toBe(true);
}, 60_000);
