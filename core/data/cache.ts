// The tokenised cache: samples written once per (dataset files' contents, template and its options,
// tokenizer, data options), read back on the next run. One binary file per key: a JSON header
// (counts, skip report) then every sample's ids as int32. Written to a temp file and renamed, so a
// crash never leaves a half cache behind.
import { mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import type { Tokenizer } from "../tokenizer/tokenizer.ts";
import { SkipReport } from "./problems.ts";
import type { DataKind, KtoSample, PairwiseSample, PromptSample, SampleOf, TokenSeq } from "./types.ts";

/** Bumped when samples change for the same inputs (2: LLaMA-Factory parity fixes, packs of cutoff_len + 1). */
const FORMAT_VERSION = 2;

/** sha256 of a file's bytes, streamed. */
export async function fileHash(path: string): Promise<string> {
  const h = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) h.update(chunk);
  return h.digest("hex");
}

/** Identifies a tokenizer by what encoding depends on: specials, chat template, and a probe encoding. */
export function tokenizerFingerprint(t: Tokenizer): string {
  const probe = "Hello wörld! 123 \n\t <|im_start|> <s> 你好 ▁x 🙂";
  const h = new Bun.CryptoHasher("sha256");
  h.update(
    JSON.stringify([
      t.vocabSize,
      t.bosId,
      t.eosId,
      t.padId,
      t.chatTemplate,
      [...t.specialTokens].sort(),
      t.encode(probe),
      t.encode(probe, { addSpecialTokens: false }),
    ]),
  );
  return h.digest("hex");
}

export function cacheKey(parts: unknown): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(JSON.stringify([FORMAT_VERSION, parts]));
  return h.digest("hex").slice(0, 32);
}

function pushSeq(out: number[], s: TokenSeq): void {
  const flags = (s.positionIds ? 1 : 0) | (s.segmentIds ? 2 : 0);
  out.push(s.inputIds.length, flags);
  for (const part of [s.inputIds, s.labels, s.positionIds, s.segmentIds]) if (part) for (const v of part) out.push(v);
}

function readSeq(a: Int32Array, at: { i: number }): TokenSeq {
  const n = a[at.i++]!;
  const flags = a[at.i++]!;
  const take = () => {
    const v = Array.from(a.subarray(at.i, at.i + n));
    at.i += n;
    return v;
  };
  const inputIds = take();
  const labels = take();
  const positionIds = flags & 1 ? take() : undefined;
  const segmentIds = flags & 2 ? take() : undefined;
  return { inputIds, labels, ...(positionIds && { positionIds }), ...(segmentIds && { segmentIds }) };
}

export function encodeSamples<K extends DataKind>(kind: K, samples: readonly SampleOf[K][]): Int32Array {
  const out: number[] = [];
  for (const s of samples) {
    if (kind === "prompt") {
      pushSeq(out, (s as PromptSample).prompt);
      pushSeq(out, (s as PromptSample).reference);
    } else if (kind === "pairwise") {
      pushSeq(out, (s as PairwiseSample).chosen);
      pushSeq(out, (s as PairwiseSample).rejected);
    } else if (kind === "kto") {
      const k = s as KtoSample;
      out.push(k.desirable ? 1 : 0);
      pushSeq(out, k.seq);
      pushSeq(out, k.kl);
    } else pushSeq(out, s as TokenSeq);
  }
  return Int32Array.from(out);
}

export function decodeSamples<K extends DataKind>(kind: K, a: Int32Array, count: number): SampleOf[K][] {
  const at = { i: 0 };
  const out: SampleOf[K][] = [];
  for (let c = 0; c < count; c++) {
    if (kind === "pairwise") out.push({ chosen: readSeq(a, at), rejected: readSeq(a, at) } as SampleOf[K]);
    else if (kind === "prompt") out.push({ prompt: readSeq(a, at), reference: readSeq(a, at) } as SampleOf[K]);
    else if (kind === "kto") {
      const desirable = a[at.i++] === 1;
      out.push({ desirable, seq: readSeq(a, at), kl: readSeq(a, at) } as SampleOf[K]);
    } else out.push(readSeq(a, at) as SampleOf[K]);
  }
  return out;
}

export interface CacheEntry<K extends DataKind> {
  readonly samples: SampleOf[K][];
  readonly report: SkipReport;
  readonly rows: number;
}

export async function readCache<K extends DataKind>(dir: string, key: string, kind: K): Promise<CacheEntry<K> | null> {
  const file = Bun.file(join(dir, `${key}.lftdata`));
  if (!(await file.exists())) return null;
  const buf = await file.arrayBuffer();
  const headerLen = new DataView(buf).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, headerLen))) as {
    version: number;
    kind: string;
    count: number;
    rows: number;
    report: Parameters<typeof SkipReport.fromJSON>[0];
  };
  if (header.version !== FORMAT_VERSION || header.kind !== kind) return null;
  const bodyAt = 4 + headerLen + ((4 - ((4 + headerLen) % 4)) % 4);
  const body = new Int32Array(buf, bodyAt, (buf.byteLength - bodyAt) / 4);
  return { samples: decodeSamples(kind, body, header.count), report: SkipReport.fromJSON(header.report), rows: header.rows };
}

export async function writeCache<K extends DataKind>(dir: string, key: string, kind: K, entry: CacheEntry<K>): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const header = new TextEncoder().encode(
    JSON.stringify({ version: FORMAT_VERSION, kind, count: entry.samples.length, rows: entry.rows, report: entry.report.toJSON() }),
  );
  const pad = (4 - ((4 + header.length) % 4)) % 4;
  const body = encodeSamples(kind, entry.samples);
  const bytes = new Uint8Array(4 + header.length + pad + body.byteLength);
  new DataView(bytes.buffer).setUint32(0, header.length, true);
  bytes.set(header, 4);
  bytes.set(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), 4 + header.length + pad);
  const path = join(dir, `${key}.lftdata`);
  const tmp = `${path}.${process.pid}.tmp`;
  await Bun.write(tmp, bytes);
  renameSync(tmp, path);
  return path;
}
