// Caching allocator: one per device. Reuses freed blocks by size class so a training step that
// allocates the same shapes every iteration stops calling the system allocator after the first.
// It counts live and peak bytes (what benchmarks and `:memory` report) and cached bytes held for reuse.

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
}

const SMALL = 1 << 20;

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

  constructor(
    readonly device: string,
    private readonly raw: RawMemory,
  ) {}

  alloc(bytes: number): Block {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    let ptr = list?.pop();
    if (ptr === undefined) {
      ptr = this.raw.alloc(size);
      if (!ptr) {
        // Give cached blocks back and try once more before reporting out-of-memory.
        this.emptyCache();
        ptr = this.raw.alloc(size);
        if (!ptr) throw new Error(`${this.device}: out of memory allocating ${size} bytes (live ${this.live} bytes)`);
      }
      this.systemAllocs++;
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
  }

  stats(): MemoryStats {
    return { liveBytes: this.live, peakBytes: this.peak, cachedBytes: this.cached, liveBlocks: this.blocks, systemAllocs: this.systemAllocs };
  }
}
