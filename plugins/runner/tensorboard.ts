// TensorBoard event files written without TensorFlow: TFRecord framing (length, masked CRC32C of the
// length, the record, masked CRC32C of the record) around hand-encoded Event protos holding scalar
// Summary values (Event{wall_time=1, step=2, file_version=3, summary=5}; Summary{value=1};
// Value{tag=1, simple_value=2}).
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC32C_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 and add a constant. */
export function maskedCrc(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

function bytesField(field: number, data: Uint8Array): number[] {
  return [(field << 3) | 2, ...varint(data.length), ...data];
}

function event(wallTime: number, step: number, body: number[]): Uint8Array {
  const wall = new Uint8Array(8);
  new DataView(wall.buffer).setFloat64(0, wallTime, true);
  return new Uint8Array([(1 << 3) | 1, ...wall, ...(step > 0 ? [2 << 3, ...varint(step)] : []), ...body]);
}

function scalarEvent(wallTime: number, step: number, scalars: Readonly<Record<string, number>>): Uint8Array {
  const values: number[] = [];
  for (const [tag, v] of Object.entries(scalars)) {
    const f = new Uint8Array(4);
    new DataView(f.buffer).setFloat32(0, v, true);
    values.push(...bytesField(1, new Uint8Array([...bytesField(1, new TextEncoder().encode(tag)), (2 << 3) | 5, ...f])));
  }
  return event(wallTime, step, bytesField(5, new Uint8Array(values)));
}

/** One TFRecord: u64 length, masked CRC of it, the data, masked CRC of the data (little-endian). */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + data.length);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(data.length), true);
  v.setUint32(8, maskedCrc(out.subarray(0, 8)), true);
  out.set(data, 12);
  v.setUint32(12 + data.length, maskedCrc(data), true);
  return out;
}

export interface EventWriter {
  readonly file: string;
  scalars(step: number, values: Readonly<Record<string, number>>): void;
}

/** Opens `<dir>/events.out.tfevents.<seconds>.<host>` and writes its file_version header. */
export function eventWriter(dir: string, now = Date.now()): EventWriter {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `events.out.tfevents.${Math.floor(now / 1000)}.${hostname()}`);
  writeFileSync(file, tfRecord(event(now / 1000, 0, bytesField(3, new TextEncoder().encode("brain.Event:2")))));
  return {
    file,
    scalars(step, values) {
      const finite = Object.fromEntries(Object.entries(values).filter(([, x]) => Number.isFinite(x)));
      if (Object.keys(finite).length > 0) appendFileSync(file, tfRecord(scalarEvent(Date.now() / 1000, step, finite)));
    },
  };
}
