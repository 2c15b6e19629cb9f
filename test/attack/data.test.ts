// Attack cases for data file access (issue 15 item 6 and the invalid UTF-8 of item 9): a dataset_info.json
// entry that points outside its folder (by "..", an absolute path, a symlink, `folder`/`subset`, a link
// inside a folder of files), special files that would hang or never end (/dev/zero behind a .json link,
// /dev/urandom, a FIFO, a socket), a .json too large to parse whole, a line with no end, and bytes that
// are not UTF-8. Each gives a located error (the dataset entry and the file) or a counted problem, in
// bounded time, and nothing outside the dataset folder is read.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createRegistry,
  datasetAttr,
  datasetFiles,
  definePlugin,
  fileDatasetAttr,
  loadDatasetInfo,
  localDatasetEntry,
  prepareData,
  readFile,
  readLines,
  streamData,
} from "../../core/index.ts";
import { dataCommand } from "../../plugins/commands/data.ts";
import { selectData } from "../../plugins/runner/datasets.ts";
import { dataOptions, dataRegistry, LF_DATA, processors } from "../core/data/helpers/registry.ts";
import { byteTokenizer } from "../core/data/helpers/tokenizer.ts";
import { captureIO } from "../dsl/helpers.ts";

const registry = dataRegistry();
const tokenizer = byteTokenizer();
const top = mkdtempSync(join(tmpdir(), "lft-attack-data-"));
const data = join(top, "data");
const outside = join(top, "outside");
mkdirSync(data);
mkdirSync(outside);
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  rmSync(top, { recursive: true, force: true });
});

const SECRET = "TOP-SECRET-outside-the-dataset-folder";
const row = (i: number) => JSON.stringify({ instruction: `q${i}`, output: `a${i}` });
writeFileSync(join(outside, "secret.json"), JSON.stringify([{ instruction: SECRET, output: SECRET }]));
writeFileSync(join(data, "good.jsonl"), `${row(1)}\n${row(2)}\n`);
copyFileSync(join(LF_DATA, "identity.json"), join(data, "identity.json"));

function info(entries: Record<string, unknown>): void {
  writeFileSync(join(data, "dataset_info.json"), JSON.stringify(entries));
}

const prepare = (dataset: string, values: Record<string, unknown> = {}, dir = data) =>
  prepareData({
    registry,
    tokenizer,
    processor: processors.sft,
    options: dataOptions({ dataset_dir: dir, dataset: [dataset], template: "default", cutoff_len: 256, ...values }),
  });

/** The error of preparing `dataset` from data/dataset_info.json; the attack must fail with one. */
async function refused(dataset: string, values: Record<string, unknown> = {}): Promise<string> {
  const r = await prepare(dataset, values);
  expect(r.isErr()).toBe(true);
  const message = r._unsafeUnwrapErr().message;
  expect(message).not.toContain(SECRET);
  expect(message).toContain(`dataset "${dataset}"`);
  return message;
}

describe("a dataset_info.json entry stays inside its folder", () => {
  test('file_name "../outside/secret.json" is refused, naming the entry, the path it resolves to and what to do', async () => {
    info({ up: { file_name: "../outside/secret.json" } });
    const m = await refused("up");
    expect(m).toContain('file_name "../outside/secret.json"');
    expect(m).toContain(join(outside, "secret.json"));
    expect(m).toContain(`outside the dataset folder ${data}`);
    expect(m).toContain("name the file directly in the recipe");
  });

  test("an absolute file_name outside the folder is refused; one inside it is read", async () => {
    info({ abs: { file_name: join(outside, "secret.json") }, absInside: { file_name: join(data, "good.jsonl") } });
    expect(await refused("abs")).toContain("outside the dataset folder");
    expect((await prepare("absInside"))._unsafeUnwrap().rows).toBe(2);
  });

  test("a symlink inside the folder leading outside is refused (realpath, not the name)", async () => {
    symlinkSync(join(outside, "secret.json"), join(data, "innocent.json"));
    info({ link: { file_name: "innocent.json" } });
    const m = await refused("link");
    expect(m).toContain(`resolves to ${join(outside, "secret.json")}`);
  });

  test("a symlink to the data folder's own file is followed", async () => {
    symlinkSync(join(data, "good.jsonl"), join(data, "alias.jsonl"));
    info({ alias: { file_name: "alias.jsonl" } });
    expect((await prepare("alias"))._unsafeUnwrap().rows).toBe(2);
  });

  test('"folder" and "subset" cannot climb out, nor can a link inside a folder of files', async () => {
    mkdirSync(join(data, "set"));
    writeFileSync(join(data, "set", "a.jsonl"), `${row(1)}\n`);
    info({ climb: { file_name: "set", folder: "../../outside" }, sub: { file_name: "set", subset: "../../outside" } });
    expect(await refused("climb")).toContain("outside the dataset folder");
    expect(await refused("sub")).toContain("outside the dataset folder");
    mkdirSync(join(data, "linked"));
    writeFileSync(join(data, "linked", "a.json"), JSON.stringify([{ instruction: "q", output: "a" }]));
    symlinkSync(join(outside, "secret.json"), join(data, "linked", "b.json"));
    info({ linked: { file_name: "linked" } });
    expect(await refused("linked")).toContain(`file ${join(data, "linked", "b.json")} resolves to`);
  });

  test("the recipe runner confines a named entry to its dir too (file_name made absolute keeps the rule)", async () => {
    info({ up: { file_name: "../outside/secret.json" }, good: { file_name: "good.jsonl" } });
    const recipe = { baseDir: top };
    const sel = (await selectData(recipe, [{ source: "up", options: { dir: "data" } }], registry, top))._unsafeUnwrap();
    const r = await prepareData({
      registry,
      tokenizer,
      processor: processors.sft,
      options: dataOptions({ dataset_dir: top, dataset: sel.names, template: "default", cutoff_len: 256 }),
      datasetInfo: sel.info,
    });
    expect(r._unsafeUnwrapErr().message).toContain("outside the dataset folder");
    // A path the recipe writes itself is the user's own choice, and is read.
    const own = (await selectData(recipe, [{ format: "alpaca", source: "outside/secret.json", options: {} }], registry, top))._unsafeUnwrap();
    const read = await prepareData({
      registry,
      tokenizer,
      processor: processors.sft,
      options: dataOptions({ dataset_dir: top, dataset: own.names, template: "default", cutoff_len: 256 }),
      datasetInfo: own.info,
    });
    expect(read._unsafeUnwrap().rows).toBe(1);
  });

  test("a key in the JSON cannot forge the confinement: only lft sets it (a symbol)", async () => {
    writeFileSync(join(data, "dataset_info.json"), JSON.stringify({ up: { file_name: "../outside/secret.json", root: "/" } }));
    const loaded = (await loadDatasetInfo(data))._unsafeUnwrap();
    expect(datasetAttr(loaded, "up").isErr()).toBe(true); // "root" is an unknown key
    writeFileSync(join(data, "dataset_info.json"), JSON.stringify({ up: { file_name: "../outside/secret.json" } }));
    const attr = datasetAttr((await loadDatasetInfo(data))._unsafeUnwrap(), "up")._unsafeUnwrap();
    expect(attr.root).toBe(data);
  });

  test("lft data preview NAME refuses the outside file with exit 1 and never prints it", async () => {
    info({ up: { file_name: "../outside/secret.json" } });
    const io = captureIO(top);
    const qwen = join(import.meta.dir, "..", "fixtures", "tokenizers", "qwen3");
    const code = await dataCommand.run(["preview", "up", "--dataset-dir", data, "--model", qwen, "--count", "1"], io, { mode: "cli", registry });
    expect(code).toBe(1);
    expect(io.out()).not.toContain(SECRET);
    expect(io.err()).toContain("outside the dataset folder");
  });
});

describe("hub snapshots are confined to their repo's cache folder", () => {
  const repo = join(top, "hub", "datasets--org--name");
  const snapshot = join(repo, "snapshots", "abc123");
  mkdirSync(join(repo, "blobs"), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  writeFileSync(join(repo, "blobs", "f00d"), `${row(1)}\n`);
  symlinkSync("../../blobs/f00d", join(snapshot, "train.jsonl"));
  const hub = createRegistry();
  hub.use(
    definePlugin({
      name: "fake-hub",
      setup(api) {
        api.declareHook("resolveRepoSource", "first");
        api.on("resolveRepoSource", () => ({ ok: true, dir: snapshot }));
      },
    }),
  );

  test("a snapshot's links into ../../blobs are read; a link out of the repo folder is refused", async () => {
    const entry = (await localDatasetEntry({ hf_hub_url: "org/name" }, "hubset", hub))._unsafeUnwrap();
    const attr = datasetAttr({ hubset: entry }, "hubset")._unsafeUnwrap();
    expect(attr.root).toBe(repo);
    expect(
      datasetFiles(attr, data)
        ._unsafeUnwrap()
        .map((f) => f.path),
    ).toEqual([join(snapshot, "train.jsonl")]);
    symlinkSync(join(outside, "secret.json"), join(snapshot, "train-2.json"));
    const e = datasetFiles(attr, data)._unsafeUnwrapErr().message;
    expect(e).toContain(`resolves to ${join(outside, "secret.json")}, outside the dataset folder ${repo}`);
  });
});

describe("special files are refused by stat, before anything opens them", () => {
  // Each of these hung or grew without bound before; a hang here fails by the test's time limit.
  test("a .json symlink to /dev/zero is refused as a character device", async () => {
    symlinkSync("/dev/zero", join(data, "zero.json"));
    info({ zero: { file_name: "zero.json" } });
    const m = await refused("zero");
    expect(m).toContain(`${join(data, "zero.json")} is a character device, not a regular file`);
  }, 5000);

  test("/dev/urandom named directly (no confinement) is still refused", async () => {
    const attr = fileDatasetAttr("/dev/urandom");
    expect(datasetFiles(attr, "/dev")._unsafeUnwrapErr().message).toBe(
      'dataset "/dev/urandom": /dev/urandom is a character device, not a regular file; lft reads data only from regular files (symlinks are followed only to them) and folders of them',
    );
  }, 5000);

  test("a FIFO (named pipe) is refused without opening it (opening would block)", async () => {
    const fifo = join(data, "pipe.jsonl");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    info({ pipe: { file_name: "pipe.jsonl" } });
    expect(await refused("pipe")).toContain("is a FIFO (named pipe), not a regular file");
    // Inside a folder of files too, instead of being skipped in silence.
    mkdirSync(join(data, "withpipe"));
    writeFileSync(join(data, "withpipe", "a.jsonl"), `${row(1)}\n`);
    expect(spawnSync("mkfifo", [join(data, "withpipe", "b.jsonl")]).status).toBe(0);
    info({ withpipe: { file_name: "withpipe" } });
    expect(await refused("withpipe")).toContain(`${join(data, "withpipe", "b.jsonl")} is a FIFO`);
  }, 5000);

  test("dataset_info.json itself: a FIFO or a link to /dev/zero is refused, by the data worker and by the runner", async () => {
    for (const [name, make] of [
      ["fifo", (p: string) => expect(spawnSync("mkfifo", [p]).status).toBe(0)],
      ["zero", (p: string) => symlinkSync("/dev/zero", p)],
    ] as const) {
      const dir = join(top, `info-${name}`);
      mkdirSync(dir);
      make(join(dir, "dataset_info.json"));
      const what = name === "fifo" ? "a FIFO (named pipe)" : "a character device";
      const r = await prepare("any", {}, dir);
      expect(r._unsafeUnwrapErr().message).toBe(`${join(dir, "dataset_info.json")}: expected a JSON file, found ${what}`);
      const sel = await selectData({ baseDir: top }, [{ source: "any", options: { dir } }], registry, top);
      expect(sel._unsafeUnwrapErr().message).toContain(`expected a JSON file, found ${what}`);
    }
  }, 10000);

  test("the model loader shares the check: a FIFO named model.safetensors is refused, not opened", () => {
    const model = join(top, "model");
    mkdirSync(model);
    writeFileSync(join(model, "config.json"), "{}");
    expect(spawnSync("mkfifo", [join(model, "model.safetensors")]).status).toBe(0);
    // In a child process: a blocking open cannot be interrupted by the test's time limit, only killed.
    const core = join(import.meta.dir, "..", "..", "core", "index.ts");
    const script = `const { openSafetensors } = await import(${JSON.stringify(core)}); const r = openSafetensors(${JSON.stringify(join(model, "model.safetensors"))}); console.log(r.isErr() ? r.error.message : "opened");`;
    const child = spawnSync(process.execPath, ["-e", script], { timeout: 10000, encoding: "utf8" });
    expect(child.signal).toBeNull();
    expect(child.stdout.trim()).toBe(`${join(model, "model.safetensors")}: expected a safetensors file, found a FIFO (named pipe)`);
  }, 15000);

  test("a socket is refused", async () => {
    const sock = join(data, "sock.jsonl");
    const server = createServer();
    servers.push(server);
    await new Promise<void>((done) => server.listen(sock, done));
    info({ sock: { file_name: "sock.jsonl" } });
    expect(await refused("sock")).toContain("is a socket, not a regular file");
  }, 5000);

  test("lft data preview FILE on a FIFO: exit 1 with the reason, no hang", async () => {
    const fifo = join(data, "cli-pipe.jsonl");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const io = captureIO(top);
    const qwen = join(import.meta.dir, "..", "fixtures", "tokenizers", "qwen3");
    const code = await dataCommand.run(["preview", fifo, "--model", qwen], io, { mode: "cli", registry });
    expect(code).toBe(1);
    expect(io.err()).toContain("is a FIFO (named pipe), not a regular file");
  }, 5000);
});

describe("what a reader holds at once is bounded", () => {
  test("a .json over max_json_bytes is refused before it is read, recommending JSON Lines", async () => {
    writeFileSync(join(data, "big.json"), JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ instruction: `q${i}`, output: "a" }))));
    info({ big: { file_name: "big.json" } });
    const m = await refused("big", { max_json_bytes: 1000 });
    expect(m).toContain("big.json: the file is");
    expect(m).toContain("over the 1000-byte limit");
    expect(m).toContain("convert it to JSON Lines (.jsonl");
    expect(m).toContain("max_json_bytes");
    // Under the default limit it reads.
    expect((await prepare("big"))._unsafeUnwrap().rows).toBe(200);
  });

  test("a recipe's dataset block raises or lowers the limit (max_json_bytes = N), the largest of the blocks winning", async () => {
    const recipe = { baseDir: top };
    const sel = (await selectData(recipe, [{ source: "big", options: { dir: "data", max_json_bytes: 1000 } }], registry, top))._unsafeUnwrap();
    expect(sel.mix.max_json_bytes).toBe(1000);
    const r = await prepareData({
      registry,
      tokenizer,
      processor: processors.sft,
      options: dataOptions({ dataset_dir: top, dataset: sel.names, template: "default", cutoff_len: 256, ...sel.mix }),
      datasetInfo: sel.info,
    });
    expect(r._unsafeUnwrapErr().message).toContain("over the 1000-byte limit");
  });

  test("lft data preview FILE: the same limit, raised with --max-json-bytes", async () => {
    const io = captureIO(top);
    const qwen = join(import.meta.dir, "..", "fixtures", "tokenizers", "qwen3");
    const file = join(data, "big.json");
    const code = await dataCommand.run(["preview", file, "--model", qwen, "--count", "1", "--max-json-bytes", "1000"], io, { mode: "cli", registry });
    expect(code).toBe(5);
    expect(io.err()).toContain("over the 1000-byte limit");
    const raised = captureIO(top);
    expect(await dataCommand.run(["preview", file, "--model", qwen, "--count", "1", "--max-json-bytes", "100000"], raised, { mode: "cli", registry })).toBe(0);
    const zero = captureIO(top);
    expect(await dataCommand.run(["preview", file, "--model", qwen, "--max-json-bytes", "0"], zero, { mode: "cli", registry })).toBe(2);
    expect(zero.err()).toContain('--max-json-bytes must be a positive integer, got "0"');
  }, 20000);

  test("a JSONL line over max_row_chars is skipped and counted as oversized, with its line", async () => {
    writeFileSync(join(data, "long.jsonl"), `${row(1)}\n${JSON.stringify({ instruction: "x".repeat(5000), output: "a" })}\n${row(3)}\n`);
    info({ long: { file_name: "long.jsonl" } });
    const p = (await prepare("long", { max_row_chars: 1000 }))._unsafeUnwrap();
    expect(p.rows).toBe(3);
    expect(p.report.count("oversized")).toBe(1);
    expect(p.report.summary()).toContain("long.jsonl:2: the row is over 1000 characters");
    const strict = await prepare("long", { max_row_chars: 1000, strict: true });
    expect(strict._unsafeUnwrapErr().message).toContain("long.jsonl:2: the row is over 1000 characters");
  });

  test("a CSV record over max_row_chars is skipped and counted; the records after it still parse", async () => {
    writeFileSync(join(data, "long.csv"), `instruction,output\nq1,a1\n"${"y".repeat(3000)}\nstill, quoted",a2\nq3,a3\n`);
    info({ longcsv: { file_name: "long.csv" } });
    const p = (await prepare("longcsv", { max_row_chars: 1000 }))._unsafeUnwrap();
    expect(p.report.count("oversized")).toBe(1);
    expect(p.train.length).toBe(2);
  });

  test("a line with no end (64 MiB of bytes without a newline) is dropped as it streams, in bounded memory", async () => {
    const chunk = new Uint8Array(1 << 20).fill(0x61);
    async function* endless() {
      for (let i = 0; i < 64; i++) yield chunk;
      yield new TextEncoder().encode(`\n${row(2)}\n`);
    }
    const before = process.memoryUsage().rss;
    const lines = [];
    for await (const l of readLines(endless(), 1 << 20)) lines.push(l);
    expect(lines.map((l) => [l.line, l.tooLong !== undefined, l.text.length])).toEqual([
      [1, true, 0],
      [2, false, row(2).length],
    ]);
    // Held: a chunk and at most the limit, not 64 MiB of text (256 MiB slack for the runtime's own growth).
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
  }, 15000);
});

describe("bytes that are not UTF-8 are counted, per file and row", () => {
  const bad = new Uint8Array([0xff, 0xfe]);
  const join3 = (...parts: (string | Uint8Array)[]) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : Buffer.from(p))));

  test("JSONL: the row with invalid bytes is kept, counted as invalid-utf8 with its line, and shown in the summary", async () => {
    writeFileSync(join(data, "latin1.jsonl"), join3(`${row(1)}\n{"instruction":"caf`, bad, `","output":"a"}\n`, `${row(3)}\n`));
    info({ latin1: { file_name: "latin1.jsonl" } });
    const p = (await prepare("latin1"))._unsafeUnwrap();
    expect(p.train.length).toBe(3);
    expect(p.report.count("invalid-utf8")).toBe(1);
    expect(p.report.summary()).toContain("kept 1 row with invalid UTF-8 replaced");
    expect(p.report.summary()).toContain("latin1.jsonl:2");
    expect(p.report.summary()).not.toContain("skipped");
    const strict = await prepare("latin1", { strict: true });
    expect(strict._unsafeUnwrapErr().message).toContain("latin1.jsonl:2: 2 byte sequences that are not UTF-8 were replaced by U+FFFD");
  });

  test("a real U+FFFD in the data is not counted; invalid bytes in a .json array and a CSV are", async () => {
    writeFileSync(join(data, "real.jsonl"), `${JSON.stringify({ instruction: "keep \ufffd as is", output: "a" })}\n`);
    writeFileSync(join(data, "arr.json"), join3(`[${row(1)},{"instruction":"x`, bad, `y","output":"a"}]`));
    writeFileSync(join(data, "bad.csv"), join3("instruction,output\nq1,a1\nq", bad, ",a2\n"));
    info({ real: { file_name: "real.jsonl" }, arr: { file_name: "arr.json" }, csv: { file_name: "bad.csv" } });
    expect((await prepare("real"))._unsafeUnwrap().report.count("invalid-utf8")).toBe(0);
    const arr = (await prepare("arr"))._unsafeUnwrap().report;
    expect(arr.count("invalid-utf8")).toBe(1);
    expect(arr.summary()).toContain("arr.json row 2");
    const csv = (await prepare("csv"))._unsafeUnwrap().report;
    expect(csv.count("invalid-utf8")).toBe(1);
    expect(csv.summary()).toContain("bad.csv:3");
  });

  test("streaming counts them too", async () => {
    info({ latin1: { file_name: "latin1.jsonl" } });
    const s = (
      await streamData({
        registry,
        tokenizer,
        processor: processors.sft,
        options: dataOptions({ dataset_dir: data, dataset: ["latin1"], template: "default", cutoff_len: 256, streaming: true }),
      })
    )._unsafeUnwrap();
    let n = 0;
    for await (const _ of s.samples()) n++;
    expect(n).toBe(3);
    expect(s.report.count("invalid-utf8")).toBe(1);
  });

  test("the readers alone: a file read directly reports the note before its row", async () => {
    const files = datasetFiles(fileDatasetAttr(join(data, "latin1.jsonl")), data)._unsafeUnwrap();
    const items = [];
    for await (const item of readFile(files[0]!, "x")) items.push(item.kind === "bad" ? item.bad.reason : "row");
    expect(items).toEqual(["row", "invalid-utf8", "row", "row"]);
  });
});

describe("lft check says it before anything runs", () => {
  test("an entry leading outside its folder and a FIFO named in the recipe: exit 5, each at its dataset line", () => {
    const dir = join(top, "check");
    mkdirSync(join(dir, "data"), { recursive: true });
    writeFileSync(join(dir, "data", "dataset_info.json"), JSON.stringify({ up: { file_name: "../../outside/secret.json" } }));
    expect(spawnSync("mkfifo", [join(dir, "pipe.jsonl")]).status).toBe(0);
    const repo = join(import.meta.dir, "..", "..");
    writeFileSync(
      join(dir, "r.lft"),
      `model llama "${repo}/examples/models/stories260K"\ndataset alpaca "up"\ndataset alpaca "pipe.jsonl"\nmethod lora { rank = 4 }\ntrain sft for 1 steps\n`,
    );
    const run = spawnSync(process.execPath, [join(repo, "dsl", "cli.ts"), "check", "r.lft"], {
      cwd: dir,
      timeout: 15000,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    expect(run.status).toBe(5);
    expect(run.stderr).toContain(
      `r.lft:2:16: dataset "up": file_name "../../outside/secret.json" resolves to ${join(outside, "secret.json")}, outside the dataset folder`,
    );
    expect(run.stderr).toContain(`r.lft:3:16: ${join(dir, "pipe.jsonl")} is a FIFO (named pipe), not a regular file`);
    expect(run.stderr).not.toContain(SECRET);
  }, 20000);
});
