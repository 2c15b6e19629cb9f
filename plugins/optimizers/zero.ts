// ZeRO stage 1: optimizer state sharded across the ranks of a data-parallel job. The trainable parameters,
// flattened in the optimizer's order, are cut into `size` equal slices; each rank builds the chosen
// optimizer over views of its slice only (pieces of parameters, no copies), so it holds 1/size of the
// state. A step: the gradients (already averaged over ranks by data parallelism) are viewed at the same
// slices, the inner optimizer updates the slice in place, and an all-gather gives every rank the whole
// updated parameters again. Only optimizers that declare element-wise state (`elementwiseSlots`: AdamW,
// SGD) can be cut anywhere; those whose state follows matrices or blocks (GaLore, APOLLO, Muon, Adam-mini,
// BAdam) are refused.
//
// Checkpoints stay rank-count independent: gatherState (every rank, before a save) assembles the state
// into whole-parameter tensors keyed as the plain optimizer keys them, which exportState hands to rank 0's
// writer; importState takes such a state, from any number of ranks or none, and keeps this rank's slice.
import { err, ok, type Result } from "neverthrow";
import {
  type Collectives,
  checkMeta,
  type HostTensor,
  type Optimizer,
  type OptimizerConflict,
  type OptimizerFactory,
  type OptimizerMeta,
  type OptimizerUse,
  type ParamGroup,
  Tensor,
} from "../../core/index.ts";
import { FlatOptimizer } from "./flat-params.ts";

/** A stretch of one parameter that this rank owns: flat elements [start, start + length) of parameter `param`. */
export interface ZeroPiece {
  readonly param: number;
  readonly start: number;
  readonly length: number;
  /** Where the piece sits in this rank's slice. */
  readonly slot: number;
}

/** The split of `numels` (the flattened parameters) into `size` slices of `sliceLength` elements (the last one padded). */
export interface ZeroLayout {
  readonly total: number;
  readonly sliceLength: number;
  /** Flat offset of each parameter. */
  readonly offsets: readonly number[];
  /** This rank's pieces, in flat order. */
  readonly pieces: readonly ZeroPiece[];
}

export function zeroLayout(numels: readonly number[], rank: number, size: number): ZeroLayout {
  const offsets: number[] = [];
  let total = 0;
  for (const n of numels) {
    offsets.push(total);
    total += n;
  }
  const sliceLength = Math.max(1, Math.ceil(total / size));
  const lo = rank * sliceLength;
  const hi = Math.min(total, lo + sliceLength);
  const pieces: ZeroPiece[] = [];
  numels.forEach((n, param) => {
    const a = Math.max(offsets[param]!, lo);
    const b = Math.min(offsets[param]! + n, hi);
    if (b > a) pieces.push({ param, start: a - offsets[param]!, length: b - a, slot: a - lo });
  });
  return { total, sliceLength, offsets, pieces };
}

/** Elements of each rank's slice gathered per all-gather (4M: 16 MiB sent, 16 MiB × ranks received per round). */
export const ZERO_GATHER_CHUNK = 1 << 22;

/** A 1-D view of `n` elements of `t` starting at element `start` (f32; untracked: it outlives step scopes). */
const flat = (t: Tensor, start: number, n: number): Tensor => t.view([n], t.byteOffset + start * 4, false);

export class ZeroOptimizer extends FlatOptimizer {
  readonly kind: string;
  readonly layout: ZeroLayout;
  /** The optimizer over this rank's pieces. */
  readonly inner: Optimizer;
  private readonly views: readonly Tensor[];
  private readonly send: Tensor;
  private readonly gatherBuffer: Tensor;
  /** Updates each parameter has had (the same on every rank: gradients are the same after averaging). */
  private readonly paramSteps: number[];
  /** The inner optimizer's state slots (each shaped like its piece). */
  private readonly slots: readonly string[];
  /** The whole state gathered by the last gatherState (at `step`); its tensors are released at the next gather or dispose(). */
  private wholeState: { step: number; meta: OptimizerMeta; tensors: Map<string, Tensor> } | null = null;

  constructor(
    groups: readonly ParamGroup[],
    lr: number,
    readonly comm: Collectives,
    build: (pieceGroups: readonly ParamGroup[]) => Result<Optimizer, Error>,
    layout: ZeroLayout,
    views: readonly Tensor[],
    pieceGroups: readonly ParamGroup[],
    gatherChunk: number = ZERO_GATHER_CHUNK,
  ) {
    super(groups, lr);
    this.layout = layout;
    this.views = views;
    const inner = build(pieceGroups);
    if (inner.isErr()) throw inner.error;
    this.inner = inner.value;
    this.kind = this.inner.kind;
    this.slots = this.inner.elementwiseSlots ?? [];
    const backend = this.params[0]!.backend;
    const chunk = Math.min(layout.sliceLength, gatherChunk);
    this.send = Tensor.alloc(backend, [chunk], "f32", false);
    this.gatherBuffer = Tensor.alloc(backend, [chunk * comm.size], "f32", false);
    this.paramSteps = this.params.map(() => 0);
  }

  /** Bytes of optimizer state this rank holds (its slice's). */
  localStateBytes(): number {
    let n = 0;
    for (const t of this.inner.exportState().tensors.values()) n += t.numel * 4;
    return n;
  }

  update(): void {
    this.step++;
    const { pieces } = this.layout;
    pieces.forEach((piece, i) => {
      const g = this.params[piece.param]!.grad;
      this.views[i]!.grad = g ? flat(g, piece.start, piece.length) : null;
    });
    this.params.forEach((p, i) => {
      if (p.grad) this.paramSteps[i]!++;
    });
    try {
      this.inner.lr = this.lr;
      this.inner.update();
    } finally {
      for (const v of this.views) {
        v.grad?.dispose();
        v.grad = null;
      }
    }
    this.gatherInto(
      (_, i) => this.views[i]!,
      (param) => this.params[param]!,
    );
  }

  /**
   * All-gathers of a slice-shaped quantity, `chunk` elements of each rank's slice at a time (so the buffers
   * stay bounded): each rank writes its pieces (`source`) into the send buffer, and every parameter-shaped
   * `target` receives the whole. A collective: every rank calls it in the same order.
   */
  private gatherInto(source: (piece: ZeroPiece, i: number) => Tensor | undefined, target: (param: number) => Tensor | undefined): void {
    const b = this.send.backend;
    const { sliceLength, offsets, pieces, total } = this.layout;
    const chunk = this.send.numel;
    const size = this.comm.size;
    for (let c0 = 0; c0 < sliceLength; c0 += chunk) {
      const n = Math.min(chunk, sliceLength - c0);
      using send = flat(this.send, 0, n);
      using recv = flat(this.gatherBuffer, 0, n * size);
      b.fill(send, 0);
      pieces.forEach((piece, i) => {
        const from = Math.max(piece.slot, c0);
        const to = Math.min(piece.slot + piece.length, c0 + n);
        const src = to > from ? source(piece, i) : undefined;
        if (!src) return;
        using part = flat(src, from - piece.slot, to - from);
        using dst = flat(send, from - c0, to - from);
        b.copy(dst, part);
      });
      const r = this.comm.allGather(send, recv);
      if (r.isErr()) this.comm.abort(`ZeRO-1 all-gather failed: ${r.error.message}`);
      // Rank k's block of recv holds flat elements [k·sliceLength + c0, + n) of the parameters.
      for (let k = 0; k < size; k++) {
        const g0 = k * sliceLength + c0;
        const g1 = Math.min(total, g0 + n);
        offsets.forEach((offset, param) => {
          const dst = g1 > g0 ? target(param) : undefined;
          if (!dst) return;
          const from = Math.max(offset, g0);
          const to = Math.min(offset + dst.numel, g1);
          if (to <= from) return;
          using part = flat(recv, k * n + (from - g0), to - from);
          using into = flat(dst, from - offset, to - from);
          b.copy(into, part);
        });
      }
    }
  }

  /** Collective: every rank assembles the whole state (slot by slot, one all-gather each); rank 0 then saves it. */
  gatherState(): void {
    this.releaseGathered();
    const inner = this.inner.exportState();
    const tensors = new Map<string, Tensor>();
    const b = this.send.backend;
    for (const slot of this.slots) {
      // Whether any rank keeps this slot (SGD without momentum keeps none): every rank must agree before gathering.
      using present = Tensor.alloc(b, [1], "f32", false);
      b.fill(present, this.layout.pieces.some((_, i) => inner.tensors.has(`${i}.${slot}`)) ? 1 : 0);
      const r = this.comm.allReduce(present, "sum");
      if (r.isErr()) this.comm.abort(`ZeRO-1 gathering the optimizer state failed: ${r.error.message}`);
      if (present.item() === 0) continue;
      const wanted = new Map<number, Tensor>();
      this.params.forEach((p, i) => {
        if (this.paramSteps[i]! === 0) return;
        const t = Tensor.alloc(b, p.shape, "f32", false);
        wanted.set(i, t);
        tensors.set(`${i}.${slot}`, t);
      });
      this.gatherInto(
        (_, i) => inner.tensors.get(`${i}.${slot}`),
        (param) => wanted.get(param),
      );
    }
    const params = this.paramSteps.flatMap((step, index) => (step > 0 ? [{ index, step }] : []));
    this.wholeState = { step: this.step, meta: this.stateMeta(params, inner.meta.hyper), tensors };
  }

  /**
   * The whole state, as the plain optimizer would export it. Gathers first unless gatherState ran since the
   * last update, so in a job of several ranks every rank must call gatherState (train() does) before rank 0
   * alone calls this.
   */
  exportState(): { meta: OptimizerMeta; tensors: Map<string, Tensor> } {
    if (this.wholeState?.step !== this.step) this.gatherState();
    const { meta, tensors } = this.wholeState!;
    return { meta, tensors };
  }

  private releaseGathered(): void {
    for (const t of this.wholeState?.tensors.values() ?? []) t.dispose();
    this.wholeState = null;
  }

  importState(raw: unknown, tensors: ReadonlyMap<string, HostTensor>): Result<void, Error> {
    const meta = checkMeta(raw, this.kind, this.params.length);
    if (meta.isErr()) return err(meta.error);
    const steps = new Map(meta.value.params.map((p) => [p.index, p.step]));
    const sliced = new Map<string, HostTensor>();
    const innerParams: { index: number; step: number }[] = [];
    for (const [i, piece] of this.layout.pieces.entries()) {
      const step = steps.get(piece.param);
      if (step === undefined) continue;
      innerParams.push({ index: i, step });
      const p = this.params[piece.param]!;
      for (const slot of this.slots) {
        const whole = tensors.get(`${piece.param}.${slot}`);
        if (!whole) continue;
        if (whole.data.length !== p.numel)
          return err(
            new Error(`optimizer state: "${piece.param}.${slot}" holds ${whole.data.length} values but parameter "${this.names[piece.param]}" has ${p.numel}`),
          );
        sliced.set(`${i}.${slot}`, { shape: [piece.length], data: whole.data.subarray(piece.start, piece.start + piece.length) });
      }
    }
    const innerMeta: OptimizerMeta = { ...meta.value, paramCount: this.views.length, params: innerParams };
    const r = this.inner.importState(innerMeta, sliced);
    if (r.isErr()) return err(r.error);
    this.releaseGathered();
    this.step = meta.value.step;
    this.params.forEach((_, i) => {
      this.paramSteps[i] = steps.get(i) ?? 0;
    });
    return ok(undefined);
  }

  dispose(): void {
    this.inner.dispose();
    this.releaseGathered();
    for (const t of [...this.views, this.send, this.gatherBuffer]) t.dispose();
  }
}

/**
 * `optimizer` with its state sharded over `comm`'s ranks (ZeRO-1). Refused, naming the optimizer, when
 * its state cannot be cut element-wise.
 */
export function zeroOptimizer(optimizer: OptimizerFactory, comm: Collectives, opts: { gatherChunk?: number } = {}): OptimizerFactory {
  return (groups, ctx) => {
    const chunk = opts.gatherChunk ?? ZERO_GATHER_CHUNK;
    if (!(Number.isSafeInteger(chunk) && chunk > 0)) return err(new Error(`zero: gatherChunk must be a positive integer, found ${chunk}`));
    const params = groups.flatMap((g) => g.params);
    const layout = zeroLayout(
      params.map((p) => p.numel),
      comm.rank,
      comm.size,
    );
    const views = layout.pieces.map((piece) => {
      const v = flat(params[piece.param]!, piece.start, piece.length);
      v.requiresGrad = true;
      return v;
    });
    // The pieces in their parameters' groups (same lr multiplier and decay), named "<parameter>[a:b]".
    const owner = groups.flatMap((g, gi) => g.params.map(() => gi));
    const names = groups.flatMap((g) => g.names);
    const pieceGroups = groups.flatMap((g, gi) => {
      const mine = layout.pieces.flatMap((piece, i) => (owner[piece.param] === gi ? [i] : []));
      if (mine.length === 0) return [];
      return [
        {
          ...g,
          params: mine.map((i) => views[i]!),
          names: mine.map((i) => {
            const piece = layout.pieces[i]!;
            return `${names[piece.param]}[${piece.start}:${piece.start + piece.length}]`;
          }),
        },
      ];
    });
    let made: ZeroOptimizer;
    try {
      made = new ZeroOptimizer(groups, 0, comm, (pg) => optimizer(pg, ctx), layout, views, pieceGroups, chunk);
    } catch (e) {
      for (const v of views) v.dispose();
      return err(e as Error);
    }
    if (!made.inner.elementwiseSlots) {
      const kind = made.kind;
      made.dispose();
      return err(new Error(notShardable(kind)));
    }
    made.lr = made.inner.lr;
    return ok(made);
  };
}

const notShardable = (kind: string) =>
  `zero = 1 cuts optimizer state element-wise, which "${kind}" does not declare (its state follows matrices or blocks); use adamw or sgd, or zero = 0`;

/** For the entries of optimizers without element-wise state: `zero = 1` refused by `lft check`, at the option. */
export function zeroConflicts(kind: string, use: OptimizerUse): OptimizerConflict[] {
  return Number(use.train.zero ?? 0) === 1 ? [{ keys: ["zero", "optimizer"], message: notShardable(kind) }] : [];
}
