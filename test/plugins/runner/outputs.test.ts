// The files people's tools read: a short run with report_to = tensorboard writes LF's trainer_log.jsonl,
// HF's results files and trainer_state.json (log_history), loss plots that decode as PNGs of the expected
// size, and a TensorBoard event file whose framing, CRCs and scalars parse back to the logged values.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { crc32, lossPlotPng, smooth } from "../../../plugins/runner/png.ts";
import { clock } from "../../../plugins/runner/train-outputs.ts";
import { type LftRun, lft, STORIES, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("outputs");
afterAll(cleanup);
const out = join(dir, "runs/out");
const read = (name: string) => JSON.parse(readFileSync(join(out, name), "utf8"));

let run: LftRun;
beforeAll(async () => {
  const lines = Array.from({ length: 24 }, (_, i) => `Tom has ${i % 5} red balls and gives one to Sue.`);
  writeFileSync(join(dir, "corpus.txt"), `${lines.join("\n")}\n`);
  run = await lft(
    dir,
    "o.lft",
    `model llama "${STORIES}" { dtype = f32 }
dataset text "corpus.txt"
method lora { rank = 4 }
train pt for 6 steps { lr = 1e-2, batch = 4, cutoff = 32, holdout = 0.25, eval_every = 3 steps, log_every = 2 steps, output = "runs/out", report_to = tensorboard }
`,
  );
}, 60_000);

test("the run succeeds", () => {
  expect(run.err).not.toMatch(/\n\s+at /);
  expect(run.code).toBe(ExitCode.ok);
});

test("trainer_log.jsonl has LF's fields, one line per logged step and one per evaluation", () => {
  const lines = readFileSync(join(out, "trainer_log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const train = lines.filter((l) => l.loss !== undefined);
  const evals = lines.filter((l) => l.eval_loss !== undefined);
  expect(train.map((l) => l.current_steps)).toEqual([2, 4, 6]);
  expect(evals.map((l) => l.current_steps)).toEqual([3, 6]);
  for (const l of train) {
    for (const k of ["current_steps", "total_steps", "loss", "lr", "epoch", "percentage", "elapsed_time", "remaining_time"]) expect(l).toHaveProperty(k);
    expect(l.total_steps).toBe(6);
    expect(l.elapsed_time).toMatch(/^\d+:\d\d:\d\d$/);
  }
  expect(train.at(-1).percentage).toBe(100);
  expect(clock(3_725_000)).toBe("1:02:05");
});

test("HF's results files and trainer_state.json log_history match the run", () => {
  const trainResults = read("train_results.json");
  for (const k of ["epoch", "train_loss", "train_runtime", "train_samples_per_second", "train_steps_per_second"]) expect(trainResults).toHaveProperty(k);
  const evalResults = read("eval_results.json");
  expect(evalResults.eval_perplexity).toBeCloseTo(Math.exp(evalResults.eval_loss), 6);
  expect(read("all_results.json")).toEqual({ ...trainResults, ...evalResults });
  const state = read("trainer_state.json");
  expect(state.global_step).toBe(6);
  expect(state.max_steps).toBe(6);
  const logged = state.log_history.filter((h: Record<string, number>) => h.loss !== undefined);
  expect(logged.map((h: Record<string, number>) => h.step)).toEqual([2, 4, 6]);
  const jsonl = readFileSync(join(out, "trainer_log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(logged.map((h: Record<string, number>) => h.loss)).toEqual(jsonl.filter((l) => l.loss !== undefined).map((l) => l.loss));
  const evals = state.log_history.filter((h: Record<string, number>) => h.eval_loss !== undefined);
  expect(evals.at(-1).eval_loss).toBe(evalResults.eval_loss);
  expect(state.best_metric).toBe(Math.min(...evals.map((h: Record<string, number>) => h.eval_loss)));
  expect(state.log_history.at(-1).train_loss).toBe(trainResults.train_loss);
  // train_loss is the mean of every step's loss: it lies between the smallest and largest logged window.
  const windows = logged.map((h: Record<string, number>) => h.loss);
  expect(trainResults.train_loss).toBeGreaterThanOrEqual(Math.min(...windows) - 1e-4);
  expect(trainResults.train_loss).toBeLessThanOrEqual(Math.max(...windows) + 1e-4);
});

/** Decodes an 8-bit RGB, non-interlaced PNG: checks the signature and every chunk's CRC, returns size and pixels. */
function decodePng(png: Uint8Array): { width: number; height: number; pixels: Uint8Array } {
  expect([...png.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Uint8Array[] = [];
  while (at < png.length) {
    const len = view.getUint32(at);
    const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
    const data = png.subarray(at + 8, at + 8 + len);
    expect(view.getUint32(at + 8 + len)).toBe(crc32(png.subarray(at + 4, at + 8 + len)));
    if (type === "IHDR") {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      expect([...data.subarray(8, 13)]).toEqual([8, 2, 0, 0, 0]);
    }
    if (type === "IDAT") idat.push(data);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  expect(raw.length).toBe(height * (1 + width * 3));
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    expect(raw[y * (1 + width * 3)]).toBe(0);
    pixels.set(raw.subarray(y * (1 + width * 3) + 1, (y + 1) * (1 + width * 3)), y * width * 3);
  }
  return { width, height, pixels };
}

test("training_loss.png and training_eval_loss.png decode to 640×480 images with the curve drawn in blue", () => {
  for (const name of ["training_loss.png", "training_eval_loss.png"]) {
    const { width, height, pixels } = decodePng(readFileSync(join(out, name)));
    expect([width, height]).toEqual([640, 480]);
    let blue = 0;
    for (let i = 0; i < pixels.length; i += 3) if (pixels[i] === 0x1f && pixels[i + 1] === 0x77 && pixels[i + 2] === 0xb4) blue++;
    expect(blue).toBeGreaterThan(50);
  }
  const { width, height } = decodePng(lossPlotPng([1, 2, 3], [3, 2, 1], 200, 100));
  expect([width, height]).toEqual([200, 100]);
  expect(smooth([1, 1, 1])).toEqual([1, 1, 1]);
});

// TFRecord: u64 len, u32 masked crc32c(len), data, u32 masked crc32c(data). CRC32C computed here independently.
function crc32cRef(bytes: Uint8Array): number {
  let c = ~0 >>> 0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}
const masked = (b: Uint8Array) => {
  const c = crc32cRef(b);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
};

function varint(b: Uint8Array, at: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const x = b[at++] as number;
    v += (x & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(x & 0x80)) return [v, at];
  }
}

/** Field number → list of raw values (numbers for varint/fixed, bytes for length-delimited). */
function fields(b: Uint8Array): Map<number, (number | Uint8Array)[]> {
  const out = new Map<number, (number | Uint8Array)[]>();
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 0;
  while (at < b.length) {
    let key: number;
    [key, at] = varint(b, at);
    const [f, wire] = [key >>> 3, key & 7];
    let val: number | Uint8Array;
    if (wire === 0) [val, at] = varint(b, at);
    else if (wire === 1) [val, at] = [v.getFloat64(at, true), at + 8];
    else if (wire === 5) [val, at] = [v.getFloat32(at, true), at + 4];
    else if (wire === 2) {
      let len: number;
      [len, at] = varint(b, at);
      [val, at] = [b.subarray(at, at + len), at + len];
    } else throw new Error(`wire type ${wire}`);
    out.set(f, [...(out.get(f) ?? []), val]);
  }
  return out;
}

test("the TensorBoard event file parses back: framing, both CRCs, file_version, and the logged scalars", () => {
  const files = readdirSync(join(out, "runs"));
  expect(files.length).toBe(1);
  expect(files[0]).toMatch(/^events\.out\.tfevents\.\d+\./);
  const b = new Uint8Array(readFileSync(join(out, "runs", files[0]!)));
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const scalars: { step: number; tag: string; value: number }[] = [];
  let version = "";
  let at = 0;
  while (at < b.length) {
    const len = Number(v.getBigUint64(at, true));
    expect(v.getUint32(at + 8, true)).toBe(masked(b.subarray(at, at + 8)));
    const data = b.subarray(at + 12, at + 12 + len);
    expect(v.getUint32(at + 12 + len, true)).toBe(masked(data));
    at += 16 + len;
    const ev = fields(data);
    expect(typeof ev.get(1)?.[0]).toBe("number"); // wall_time
    if (ev.has(3)) version = new TextDecoder().decode(ev.get(3)![0] as Uint8Array);
    for (const summary of (ev.get(5) ?? []) as Uint8Array[])
      for (const value of (fields(summary).get(1) ?? []) as Uint8Array[]) {
        const f = fields(value);
        scalars.push({ step: (ev.get(2)?.[0] as number) ?? 0, tag: new TextDecoder().decode(f.get(1)![0] as Uint8Array), value: f.get(2)![0] as number });
      }
  }
  expect(at).toBe(b.length);
  expect(version).toBe("brain.Event:2");
  const state = read("trainer_state.json");
  const losses = scalars.filter((s) => s.tag === "train/loss");
  const logged = state.log_history.filter((h: Record<string, number>) => h.loss !== undefined);
  expect(losses.map((s) => s.step)).toEqual([2, 4, 6]);
  for (const [i, s] of losses.entries()) expect(s.value).toBeCloseTo(logged[i].loss, 3);
  const lrs = scalars.filter((s) => s.tag === "train/learning_rate");
  for (const [i, s] of lrs.entries()) expect(s.value).toBeCloseTo(logged[i].learning_rate, 6);
  const evals = scalars.filter((s) => s.tag === "eval/loss");
  expect(evals.map((s) => s.step)).toEqual([3, 6]);
  expect(evals.at(-1)!.value).toBeCloseTo(read("eval_results.json").eval_loss, 5);
});
