// Fuzz class 1, safetensors headers: a valid small file (test/fixtures/io/reference.safetensors: F32,
// BF16, F16, I32, I64, U8, a scalar, an empty tensor, metadata) mutated in its length field, its JSON
// header (dtypes, shapes, offsets, names, metadata, nesting) or its raw bytes, then opened and every
// tensor loaded through the real reader (openSafetensors → tensor()). A refusal must name the file, and
// the tensor when one is at fault; a tensor that loads must have the shape and size its header gives.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModel, openSafetensors, type Registry } from "../../../core/index.ts";
import type { FuzzClass, Verdict } from "./harness.ts";
import type { Gen } from "./random.ts";

export const REFERENCE_SAFETENSORS = join(import.meta.dir, "../../fixtures/io/reference.safetensors");

/** A valid file taken apart: the mutations work on its header text, parsed header and data. */
interface Base {
  readonly file: Uint8Array;
  readonly headerLength: number;
  readonly headerText: string;
  readonly data: Uint8Array;
  readonly header: Record<string, Record<string, unknown>>;
  readonly names: readonly string[];
}

export function baseOf(file: Uint8Array): Base {
  const headerLength = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const headerText = new TextDecoder().decode(file.subarray(8, 8 + headerLength));
  const header = JSON.parse(headerText) as Record<string, Record<string, unknown>>;
  return { file, headerLength, headerText, data: file.subarray(8 + headerLength), header, names: Object.keys(header).filter((n) => n !== "__metadata__") };
}

const reference = baseOf(readFileSync(REFERENCE_SAFETENSORS));

export interface SafetensorsInput {
  /** What was done to the file, for the failure report. */
  readonly how: string;
  readonly bytes: Uint8Array;
}

const DTYPES = ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2", "U64", "C64", "f32", "", "F33"];
const HUGE = [2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64, 1e300, Number.MAX_SAFE_INTEGER];

/** A JSON number text the generator cannot express as a JS number (exponent overflow, -0, huge integers). */
function oddNumberText(g: Gen): string {
  return g.pick(["1e999", "-0", "18446744073709551616", "9223372036854775807", "1.5", "-1", "0.0000001", "1E2", "00", "0x10"]);
}

function deep(n: number, leaf: string): string {
  return `${"[".repeat(n)}${leaf}${"]".repeat(n)}`;
}

function mutateValue(g: Gen): unknown {
  switch (g.int(9)) {
    case 0:
      return g.pick(HUGE);
    case 1:
      return -1 - g.int(1000);
    case 2:
      return g.int(4) + 0.5;
    case 3:
      return String(g.int(100));
    case 4:
      return null;
    case 5:
      return [];
    case 6:
      return { a: 1 };
    case 7:
      return true;
    default:
      return g.int(200);
  }
}

function mutateShape(g: Gen, shape: unknown): unknown {
  const s = Array.isArray(shape) ? [...shape] : [];
  switch (g.int(8)) {
    case 0:
      s[g.int(Math.max(1, s.length))] = g.pick(HUGE) as number;
      return s;
    case 1:
      // Elements that overflow 2^53 when multiplied, with a zero that makes the byte count 0.
      return [0, g.pick(HUGE), g.pick(HUGE)];
    case 2:
      return [g.pick(HUGE), g.pick(HUGE)];
    case 3:
      return Array.from({ length: g.pick([33, 64, 1000]) }, () => 1);
    case 4:
      return [...s, 1];
    case 5:
      return s.length > 0 ? s.slice(1) : [1];
    case 6:
      return mutateValue(g);
    default:
      s[g.int(Math.max(1, s.length))] = mutateValue(g) as number;
      return s;
  }
}

function mutateOffsets(g: Gen, offsets: unknown, all: Record<string, Record<string, unknown>>, names: readonly string[]): unknown {
  const [b, e] = (Array.isArray(offsets) ? offsets : [0, 0]) as [number, number];
  switch (g.int(9)) {
    case 0:
      return [e, b];
    case 1:
      return [b, e + 1 + g.int(8)];
    case 2:
      return [b - 1 - g.int(4), e];
    case 3: {
      const other = all[g.pick(names)]?.data_offsets as number[] | undefined;
      return other ? [...other] : [b, e];
    }
    case 4:
      return [b, g.pick(HUGE)];
    case 5:
      return [g.pick(HUGE), g.pick(HUGE)];
    case 6:
      return [b, e, e];
    case 7:
      return [b];
    default:
      return [mutateValue(g), e];
  }
}

/** Mutations of the parsed header, serialised again (with an exact length field). */
function structured(g: Gen, { header, names }: Base): { how: string; text: string } {
  const h = structuredClone(header) as Record<string, Record<string, unknown>>;
  const name = g.pick(names);
  const entry = h[name]!;
  const hows: string[] = [];
  for (let n = 1 + g.int(2); n > 0; n--) {
    switch (g.int(10)) {
      case 0:
        entry.dtype = g.chance(0.8) ? g.pick(DTYPES) : mutateValue(g);
        hows.push(`${name}.dtype = ${JSON.stringify(entry.dtype)}`);
        break;
      case 1:
      case 2:
        entry.shape = mutateShape(g, entry.shape);
        hows.push(`${name}.shape = ${JSON.stringify(entry.shape)}`);
        break;
      case 3:
      case 4:
        entry.data_offsets = mutateOffsets(g, entry.data_offsets, h, names);
        hows.push(`${name}.data_offsets = ${JSON.stringify(entry.data_offsets)}`);
        break;
      case 5: {
        const key = g.pick(["dtype", "shape", "data_offsets"]);
        delete entry[key];
        hows.push(`${name} without ${key}`);
        break;
      }
      case 6:
        entry[g.pick(["extra", "__proto__", "constructor", "dtype2"])] = mutateValue(g);
        hows.push(`${name} with an extra key`);
        break;
      case 7: {
        const meta = (h.__metadata__ ?? {}) as Record<string, unknown>;
        const key = g.pick(["format", "__proto__", "", "x".repeat(1 + g.int(3000)), "toString"]);
        meta[key] = g.chance(0.5) ? mutateValue(g) : "y".repeat(g.int(100_000));
        h.__metadata__ = g.chance(0.1) ? (mutateValue(g) as Record<string, unknown>) : meta;
        hows.push(`metadata ${JSON.stringify(key.slice(0, 20))}`);
        break;
      }
      case 8: {
        // A renamed tensor: odd names are still names (and must appear in messages as written).
        const to = g.pick(["", " ", "a\u0000b", "é", "\u{1F600}", "__metadata__x", "x".repeat(10_000), names[0]!]);
        h[to] = entry;
        if (to !== name) delete h[name];
        hows.push(`${name} renamed ${JSON.stringify(to.slice(0, 20))}`);
        break;
      }
      default:
        h[name] = mutateValue(g) as Record<string, unknown>;
        hows.push(`${name} = ${JSON.stringify(h[name])}`);
    }
  }
  return { how: hows.join("; "), text: JSON.stringify(h) };
}

/** Mutations of the header text: things JSON.stringify cannot write (duplicates, deep nesting, junk). */
function textual(g: Gen, { header, headerText, names }: Base): { how: string; text: string } {
  const t = headerText.trimEnd();
  switch (g.int(7)) {
    case 0: {
      const name = g.pick(names);
      const dup = `"${name}":${JSON.stringify(header[name])}`;
      return { how: `duplicate ${name}`, text: `${t.slice(0, -1)},${dup}}` };
    }
    case 1: {
      const depth = g.pick([100, 1000, 10_000, 100_000]);
      const name = g.pick(names);
      // Under a key the format ignores: the reader must skip it, not recurse into it.
      return { how: `${name} with a list nested ${depth} deep`, text: t.replace(`"${name}":{"dtype"`, `"${name}":{"x":${deep(depth, "1")},"dtype"`) };
    }
    case 2: {
      const depth = g.pick([100, 5000, 50_000]);
      return { how: `shape nested ${depth} deep`, text: t.replace('"shape":[4]', `"shape":${deep(depth, "4")}`) };
    }
    case 3: {
      const name = g.pick(names);
      return { how: `${name} with odd number text`, text: t.replace(`"${name}":{"dtype"`, `"${name}":{"n":${oddNumberText(g)},"dtype"`) };
    }
    case 4: {
      const at = g.int(t.length);
      return { how: `header cut at ${at}`, text: t.slice(0, at) };
    }
    case 5:
      return { how: "not JSON", text: g.pick(["", "null", "[]", "1", '"x"', "{", "}{", "{}{}", "\u0000", "{'a': 1}", "NaN", "{}"]) };
    default: {
      const at = g.int(t.length);
      const junk = g.pick(["\\", '"', "\\u00", "\\ud800", ",", "}", "\u0000", "\uffff", "\\x41"]);
      return { how: `"${junk}" inserted at ${at}`, text: t.slice(0, at) + junk + t.slice(at) };
    }
  }
}

function assemble(text: string, body: Uint8Array, lengthField?: bigint): Uint8Array {
  const h = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(body, 8 + h.length);
  return out;
}

/** One mutation of a valid file. */
export function mutateSafetensors(g: Gen, base: Base): SafetensorsInput {
  const { headerLength, headerText, data } = base;
  const kind = g.int(10);
  if (kind < 5) {
    const m = structured(g, base);
    return { how: m.how, bytes: assemble(m.text, data) };
  }
  if (kind < 7) {
    const m = textual(g, base);
    return { how: m.how, bytes: assemble(m.text, data) };
  }
  if (kind === 7) {
    const field = g.pick([
      0n,
      1n,
      2n,
      BigInt(headerLength - 1),
      BigInt(headerLength + 1),
      BigInt(base.file.length - 8),
      2n ** 63n,
      2n ** 64n - 1n,
      100_000_001n,
    ]);
    return { how: `length field ${field}`, bytes: assemble(headerText, data, field) };
  }
  const bytes = Uint8Array.from(base.file);
  if (kind === 8) {
    const at = g.int(bytes.length);
    return { how: `file cut at byte ${at}`, bytes: bytes.subarray(0, at) };
  }
  const flips: number[] = [];
  for (let n = 1 + g.int(4); n > 0; n--) {
    const at = g.int(bytes.length);
    bytes[at] = bytes[at]! ^ (1 << g.int(8));
    flips.push(at);
  }
  return { how: `bits flipped at ${flips.join(", ")}`, bytes };
}

/** Opens and loads every tensor; a loaded tensor must match what its header says. */
function tryFile(path: string): Verdict {
  const opened = openSafetensors(path);
  if (opened.isErr()) return { outcome: "refused", message: opened.error.message };
  const file = opened.value;
  try {
    for (const name of file.names()) {
      const info = file.info(name)._unsafeUnwrap();
      const t = file.tensor(name);
      if (t.isErr()) {
        // Raw bytes must still be readable for a dtype lft cannot hold (U8, I64, ...).
        const raw = file.bytes(name);
        if (raw.isErr()) return { outcome: "refused", message: raw.error.message };
        if (raw.value.byteLength !== info.byteLength)
          return { outcome: "silent", detail: `${name}: bytes() gave ${raw.value.byteLength} bytes, header says ${info.byteLength}` };
        if (!/unsupported dtype/.test(t.error.message)) return { outcome: "refused", message: t.error.message };
        continue;
      }
      const tensor = t.value;
      const same = tensor.shape.length === info.shape.length && tensor.shape.every((d, i) => d === info.shape[i]);
      const bytes = tensor.bytes;
      tensor.dispose();
      if (!same) return { outcome: "silent", detail: `${name}: loaded shape [${tensor.shape}] but the header says [${info.shape}]` };
      if (bytes !== info.byteLength) return { outcome: "silent", detail: `${name}: loaded ${bytes} bytes but the header says ${info.byteLength}` };
    }
    return { outcome: "accepted" };
  } finally {
    file.close();
  }
}

/** The class over files written under `dir` (one per input, overwritten). */
export function safetensorsClass(dir: string): FuzzClass<SafetensorsInput> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "fuzz.safetensors");
  return {
    name: "safetensors-header",
    make: (g) => mutateSafetensors(g, reference),
    try(input) {
      writeFileSync(path, input.bytes);
      return tryFile(path);
    },
    // The file is always named; a problem inside one tensor's entry names the tensor too.
    located: (message) => message.startsWith(`${path}: `) && message.length > path.length + 10,
    show: (input) => `${input.how} (${input.bytes.length} bytes)`,
  };
}

/**
 * The same mutations on a real model's weights (examples/models/stories260K), loaded through the model
 * loader (config → family → checkpoint → every parameter checked and uploaded). A refusal names the
 * weights file (or the config); a model that loads has every parameter its family declares.
 */
export function modelLoadClass(dir: string, modelDir: string, registry: Registry): FuzzClass<SafetensorsInput> {
  mkdirSync(dir, { recursive: true });
  cpSync(modelDir, dir, { recursive: true });
  const weights = join(dir, "model.safetensors");
  const base = baseOf(readFileSync(weights));
  return {
    name: "model-weights",
    make: (g) => mutateSafetensors(g, base),
    try(input): Verdict {
      writeFileSync(weights, input.bytes);
      const loaded = loadModel(dir, registry);
      if (loaded.isErr()) return { outcome: "refused", message: loaded.error.message };
      const { model } = loaded.value;
      const missing = model
        .namedSlots("", false)
        .filter(([, slot]) => slot.tensor === null || slot.tensor.shape.length !== slot.shape.length || slot.tensor.shape.some((d, i) => d !== slot.shape[i]));
      model.dispose();
      return missing.length === 0 ? { outcome: "accepted" } : { outcome: "silent", detail: `parameters not loaded: ${missing.map(([p]) => p).join(", ")}` };
    },
    // The weights file, or the model folder with the tensor that does not fit.
    located: (message) => message.includes(weights) || (message.includes(dir) && message.includes('tensor "')),
    show: (input) => `${input.how} (${input.bytes.length} bytes)`,
  };
}
