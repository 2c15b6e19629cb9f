// Opens a safetensors file: reads and checks only its header; a tensor's bytes are mapped from the file
// (mmap, copy-on-write) when asked for, so opening a 10 GB shard costs one header read.
import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { err, ok, type Result } from "neverthrow";
import { didYouMean, suggest } from "../registry/suggest.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { CheckpointError } from "./errors.ts";
import { pathKind } from "./regular-file.ts";
import { type HeaderEntry, parseSafetensorsHeader, type TensorInfo } from "./safetensors-header.ts";
import { type LoadOptions, uploadTensor } from "./tensor-upload.ts";

/** The reference implementation's limit; real headers are a few MB at most. */
const MAX_HEADER_BYTES = 100_000_000;
/** Mapping through /proc/self/fd keeps reading the file we opened even if its path is replaced. */
const PROC_FD = existsSync("/proc/self/fd");
const closer = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {}
});

function readFully(fd: number, into: Uint8Array, position: number): boolean {
  for (let done = 0; done < into.length; ) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) return false;
    done += n;
  }
  return true;
}

export class SafetensorsFile {
  private fd: number | null;
  private readonly byName: ReadonlyMap<string, HeaderEntry>;
  private sortedNames: string[] | null = null;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly dataStart: number,
    private readonly fileSize: number,
    entries: readonly HeaderEntry[],
    readonly metadata: Readonly<Record<string, string>>,
  ) {
    this.fd = fd;
    this.byName = new Map(entries.map((e) => [e.name, e]));
    closer.register(this, fd, this);
  }

  static open(path: string): Result<SafetensorsFile, CheckpointError> {
    // Asked before opening: opening a FIFO blocks until something writes to it.
    const kind = pathKind(path);
    if (kind.kind === "special") return err(new CheckpointError(path, `expected a safetensors file, found ${kind.what}`));
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return err(new CheckpointError(path, "no such file"));
      return err(new CheckpointError(path, `cannot open: ${(e as Error).message}`));
    }
    const fail = (detail: string) => {
      closeSync(fd);
      return err(new CheckpointError(path, detail));
    };
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) return fail("expected a safetensors file, found a directory or special file (openCheckpoint reads a model folder)");
      const size = stat.size;
      if (size < 8) return fail(`the file is ${size} bytes, shorter than the 8-byte header length every safetensors file starts with`);
      const head = new Uint8Array(8);
      if (!readFully(fd, head, 0)) return fail("the file ended while reading its first 8 bytes");
      const n = new DataView(head.buffer).getBigUint64(0, true);
      if (n > BigInt(size - 8)) {
        return fail(`the first 8 bytes give a header length of ${n} bytes, but only ${size - 8} bytes follow them (truncated, or not a safetensors file)`);
      }
      if (n > BigInt(MAX_HEADER_BYTES)) return fail(`the header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit of the format's reference reader`);
      const headerBytes = new Uint8Array(Number(n));
      if (!readFully(fd, headerBytes, 8)) return fail("the file ended while reading its header");
      const parsed = parseSafetensorsHeader(path, headerBytes, size - 8 - Number(n));
      if (parsed.isErr()) {
        closeSync(fd);
        return err(parsed.error);
      }
      return ok(new SafetensorsFile(path, fd, 8 + Number(n), size, parsed.value.entries, parsed.value.metadata));
    } catch (e) {
      return fail(`cannot read: ${(e as Error).message}`);
    }
  }

  /** Tensor names, sorted. */
  names(): readonly string[] {
    this.sortedNames ??= [...this.byName.keys()].sort();
    return this.sortedNames;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  info(name: string): Result<TensorInfo, CheckpointError> {
    return this.entry(name).map(({ dtype, shape, byteLength }) => ({ dtype, shape, byteLength }));
  }

  /** The stored bytes, a copy-on-write view of the mapped file (writes never reach the disk). */
  bytes(name: string): Result<Uint8Array, CheckpointError> {
    const found = this.entry(name);
    if (found.isErr()) return err(found.error);
    const e = found.value;
    if (this.fd === null) return err(new CheckpointError(this.path, "the file was closed", name));
    if (e.byteLength === 0) return ok(new Uint8Array(0));
    try {
      // Mapping past the end of a file that shrank would crash the process on access (SIGBUS): check first.
      const size = fstatSync(this.fd).size;
      if (size !== this.fileSize) {
        return err(new CheckpointError(this.path, `the file changed size since it was opened (${this.fileSize} -> ${size} bytes); open it again`, name));
      }
      const source = PROC_FD ? `/proc/self/fd/${this.fd}` : this.path;
      const view = Bun.mmap(source, { offset: this.dataStart + e.begin, size: e.byteLength, shared: false });
      if (view.byteLength !== e.byteLength) {
        return err(new CheckpointError(this.path, `mapped ${view.byteLength} bytes, expected ${e.byteLength}`, name));
      }
      return ok(view);
    } catch (x) {
      const limit = e.byteLength > 2 ** 32 ? ` (${e.byteLength} bytes; one JavaScript array holds at most 4 GiB)` : "";
      return err(new CheckpointError(this.path, `cannot map the tensor's bytes: ${(x as Error).message}${limit}`, name));
    }
  }

  /** Loads one tensor into an lft Tensor (F32/BF16/F16/I32; see LoadOptions for conversion). */
  tensor(name: string, opts: LoadOptions = {}): Result<Tensor, CheckpointError> {
    return this.entry(name).andThen((e) => this.bytes(name).andThen((b) => uploadTensor(this.path, name, e, b, opts)));
  }

  /** Size of the data buffer: the bytes of all tensors together. */
  get dataBytes(): number {
    return this.fileSize - this.dataStart;
  }

  get closed(): boolean {
    return this.fd === null;
  }

  /** Releases the file; views from bytes() stay valid (each holds its own mapping). */
  close(): void {
    if (this.fd === null) return;
    closer.unregister(this);
    closeSync(this.fd);
    this.fd = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private entry(name: string): Result<HeaderEntry, CheckpointError> {
    const e = this.byName.get(name);
    if (e) return ok(e);
    return err(new CheckpointError(this.path, `not in this file${didYouMean(suggest(name, this.byName.keys()))}`, name));
  }
}

export function openSafetensors(path: string): Result<SafetensorsFile, CheckpointError> {
  return SafetensorsFile.open(path);
}
