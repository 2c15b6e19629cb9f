// Caching allocator: one per device. Reuses freed blocks by size class so a training step that
// allocates the same shapes every iteration stops calling the system allocator after the first.
// It counts live and peak bytes (what benchmarks and `:memory` report) and cached bytes held for reuse.
// A byte budget (the device's memory: physical RAM for the CPU, device memory for a GPU) refuses an
// allocation that would take live memory past it, with an error naming the size, before the OS kills us.

/** The device's raw memory: pointers are plain numbers (host addresses or device addresses). */
export interface RawMemory {
  alloc(bytes: number): number;
  free(ptr: number): void;
}

export interface Block {
  readonly ptr: number;
  /** Size class actually reserved (>= requested). */
  readonly size: number;
}

export interface MemoryStats {
  liveBytes: number;
  peakBytes: number;
  cachedBytes: number;
  liveBlocks: number;
  systemAllocs: number;
  /** Bytes held from the system: live plus cached. */
  reservedBytes: number;
  /** The most bytes held from the system at once since the last resetPeak (what the process's RSS follows). */
  peakReservedBytes: number;
}

export interface AllocatorOptions {
  /** Bytes the device can hold; an allocation that would take live bytes past it is refused. Default: no limit. */
  limitBytes?: number;
}

/** An allocation larger than the device can hold, or a size that is not a byte count. */
export class MemoryLimitError extends Error {
  override name = "MemoryLimitError";
}

const SMALL = 1 << 20;

/** "1234567 bytes (1.15 GiB)": exact for the reader who compares, rounded for the one who skims. */
export function formatBytes(bytes: number): string {
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let v = bytes;
  let unit = "";
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return unit ? `${bytes} bytes (${v.toFixed(2)} ${unit})` : `${bytes} bytes`;
}

/** Size classes: 512-byte steps below 1 MiB, then 1/8-power-of-two steps (at most 12.5% slack). */
export function sizeClass(bytes: number): number {
  const b = Math.max(bytes, 1);
  if (b <= SMALL) return Math.ceil(b / 512) * 512;
  const top = 2 ** Math.floor(Math.log2(b));
  const step = top / 8;
  return Math.ceil(b / step) * step;
}

export class CachingAllocator {
  private readonly free = new Map<number, number[]>();
  private live = 0;
  private peak = 0;
  private cached = 0;
  private blocks = 0;
  private systemAllocs = 0;
  private peakReserved = 0;

  private limit: number;

  constructor(
    readonly device: string,
    private readonly raw: RawMemory,
    opts: AllocatorOptions = {},
  ) {
    this.limit = opts.limitBytes ?? Number.POSITIVE_INFINITY;
  }

  /** The byte budget (Infinity: none). */
  get limitBytes(): number {
    return this.limit;
  }

  /** Replaces the byte budget (tests, or a user who knows the machine better than the OS reports). */
  setLimit(bytes: number): void {
    if (!(bytes > 0)) throw new RangeError(`${this.device}: a memory limit must be a positive number of bytes, got ${bytes}`);
    this.limit = bytes;
  }

  /** `what` names the allocation in errors (a tensor's shape and dtype). */
  alloc(bytes: number, what = "an allocation"): Block {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new MemoryLimitError(`${this.device}: ${what} asks for ${bytes} bytes, which is not a byte count from 0 to 2^53 - 1`);
    }
    if (this.live + bytes > this.limit) {
      throw new MemoryLimitError(
        `${this.device}: ${what} needs ${formatBytes(bytes)}, but ${formatBytes(this.live)} is in use and this device holds ${formatBytes(this.limit)}; use smaller sizes (batch, sequence length, rank) or a machine with more memory`,
      );
    }
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    let ptr = list?.pop();
    if (ptr === undefined) {
      ptr = this.raw.alloc(size);
      if (!ptr) {
        // Give cached blocks back and try once more before reporting out-of-memory.
        this.emptyCache();
        ptr = this.raw.alloc(size);
        if (!ptr) throw new MemoryLimitError(`${this.device}: out of memory allocating ${formatBytes(size)} for ${what} (${formatBytes(this.live)} in use)`);
      }
      this.systemAllocs++;
      const reserved = this.live + size + this.cached;
      if (reserved > this.peakReserved) this.peakReserved = reserved;
    } else {
      this.cached -= size;
    }
    this.live += size;
    this.blocks++;
    if (this.live > this.peak) this.peak = this.live;
    return { ptr, size };
  }

  release(block: Block): void {
    this.live -= block.size;
    this.blocks--;
    this.cached += block.size;
    let list = this.free.get(block.size);
    if (!list) {
      list = [];
      this.free.set(block.size, list);
    }
    list.push(block.ptr);
  }

  /** Returns every cached block to the system. */
  emptyCache(): void {
    for (const list of this.free.values()) for (const p of list) this.raw.free(p);
    this.free.clear();
    this.cached = 0;
  }

  resetPeak(): void {
    this.peak = this.live;
    this.peakReserved = this.live + this.cached;
  }

  stats(): MemoryStats {
    return {
      liveBytes: this.live,
      peakBytes: this.peak,
      cachedBytes: this.cached,
      liveBlocks: this.blocks,
      systemAllocs: this.systemAllocs,
      reservedBytes: this.live + this.cached,
      peakReservedBytes: this.peakReserved,
    };
  }
}
