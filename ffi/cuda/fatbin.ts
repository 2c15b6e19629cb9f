// Reads what nvcc put in a fatbin without a GPU or CUDA tools: the cubins (one per SM architecture) and,
// per kernel, its parameters' offsets and sizes as the compiler laid them out (EIATTR_KPARAM_INFO in the
// .nv.info.<kernel> sections). The probe uses it to say whether the fatbin has code for the device; the
// tests use it to check every kernel signature declared in kernels.ts against the compiled kernel.

const FATBIN_MAGIC = 0xba55ed50;
const ELF_MAGIC = 0x464c457f; // "\x7fELF" read little-endian
const ENTRY_KIND_ELF = 2;
const EIATTR_KPARAM_INFO = 0x17;
const EIFMT_HVAL = 3;
const EIFMT_SVAL = 4;

export interface KernelParam {
  readonly ordinal: number;
  readonly offset: number;
  readonly size: number;
}

export interface Cubin {
  /** SM version, e.g. 80 or 90. */
  readonly sm: number;
  /** Kernel name -> parameters in ordinal order. */
  readonly kernels: ReadonlyMap<string, readonly KernelParam[]>;
}

export interface FatbinInfo {
  readonly cubins: readonly Cubin[];
  /** Entries that are not readable cubins (PTX, compressed), by kind. */
  readonly skipped: readonly string[];
}

export class FatbinFormatError extends Error {
  override name = "FatbinFormatError";
}

function cstr(bytes: Uint8Array, at: number): string {
  let end = at;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(at, end));
}

function parseNvInfo(view: DataView, start: number, size: number): KernelParam[] {
  const params: KernelParam[] = [];
  let p = start;
  const end = start + size;
  while (p + 2 <= end) {
    const fmt = view.getUint8(p);
    const attr = view.getUint8(p + 1);
    p += 2;
    if (fmt === EIFMT_SVAL) {
      const len = view.getUint16(p, true);
      p += 2;
      if (attr === EIATTR_KPARAM_INFO && len >= 12) {
        const ordinal = view.getUint16(p + 4, true);
        const offset = view.getUint16(p + 6, true);
        const bits = view.getUint32(p + 8, true);
        params.push({ ordinal, offset, size: bits >>> 18 });
      }
      p += len;
    } else if (fmt === EIFMT_HVAL) {
      p += 2;
    }
    // EIFMT_NVAL (1) and others carry no value
  }
  return params.sort((a, b) => a.ordinal - b.ordinal);
}

/** Parses one cubin (an ELF image of the CUDA machine type). */
export function parseCubin(bytes: Uint8Array): Cubin {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== ELF_MAGIC || view.getUint8(4) !== 2) throw new FatbinFormatError("cubin is not a 64-bit ELF image");
  const sm = (view.getUint32(0x30, true) >>> 8) & 0xff;
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const shstrndx = view.getUint16(0x3e, true);
  const sec = (i: number) => {
    const at = shoff + i * shentsize;
    return { name: view.getUint32(at, true), offset: Number(view.getBigUint64(at + 0x18, true)), size: Number(view.getBigUint64(at + 0x20, true)) };
  };
  const strtab = sec(shstrndx).offset;
  const texts = new Set<string>();
  const infos = new Map<string, KernelParam[]>();
  for (let i = 0; i < shnum; i++) {
    const s = sec(i);
    const name = cstr(bytes, strtab + s.name);
    if (name.startsWith(".text.")) texts.add(name.slice(6));
    else if (name.startsWith(".nv.info.")) infos.set(name.slice(9), parseNvInfo(view, s.offset, s.size));
  }
  const kernels = new Map<string, readonly KernelParam[]>();
  for (const k of [...texts].sort()) kernels.set(k, infos.get(k) ?? []);
  return { sm, kernels };
}

/** Parses a fatbin container (nvcc -fatbin): every uncompressed cubin in it. */
export function parseFatbin(bytes: Uint8Array): FatbinInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 16 || view.getUint32(0, true) !== FATBIN_MAGIC) throw new FatbinFormatError("not a fatbin (bad magic)");
  const headerSize = view.getUint16(6, true);
  const payload = Number(view.getBigUint64(8, true));
  const end = Math.min(bytes.byteLength, headerSize + payload);
  const cubins: Cubin[] = [];
  const skipped: string[] = [];
  let at = headerSize;
  while (at + 16 <= end) {
    const kind = view.getUint16(at, true);
    const entryHeader = view.getUint32(at + 4, true);
    const size = Number(view.getBigUint64(at + 8, true));
    const body = bytes.subarray(at + entryHeader, at + entryHeader + size);
    if (kind === ENTRY_KIND_ELF && body.byteLength >= 64 && new DataView(body.buffer, body.byteOffset).getUint32(0, true) === ELF_MAGIC)
      cubins.push(parseCubin(body));
    else skipped.push(kind === ENTRY_KIND_ELF ? "compressed cubin" : kind === 1 ? "PTX" : `entry kind ${kind}`);
    if (entryHeader === 0) break;
    at += entryHeader + size;
  }
  return { cubins, skipped };
}
