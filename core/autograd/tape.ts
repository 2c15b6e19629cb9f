// Reverse-mode autograd. An op is one object with forward(ctx, ...args) and backward(ctx, gradOut);
// `defineOp` turns it into a function on tensors that records a node when a gradient is needed.
// Saved activations are views the node owns; they are freed right after the node's backward runs.

import { setGraphWalker, tidy, trackNode } from "../tensor/scope.ts";
import { formatShape, ShapeError, sameShape } from "../tensor/shape.ts";
import type { GradNode } from "../tensor/tensor.ts";
import { Tensor } from "../tensor/tensor.ts";

let gradEnabled = true;

/** Receives the time of each op's forward and backward (a bench's per-op profile); null: off. */
export interface OpProfiler {
  /** A clock in ms (wall, or the process's CPU time, which the load of other processes does not inflate). */
  now(): number;
  /** Exclusive time: an op's forward that runs other ops inside reports only its own part. */
  record(op: string, phase: "forward" | "backward", ms: number): void;
}
let profiler: OpProfiler | null = null;
const childTime: number[] = [];

/** Installs a profiler (null removes it); returns the previous one. */
export function setOpProfiler(p: OpProfiler | null): OpProfiler | null {
  const prev = profiler;
  profiler = p;
  return prev;
}

function profiled<T>(op: string, phase: "forward" | "backward", fn: () => T): T {
  const p = profiler;
  if (!p) return fn();
  const start = p.now();
  childTime.push(0);
  try {
    return fn();
  } finally {
    const total = p.now() - start;
    const children = childTime.pop()!;
    if (childTime.length) childTime[childTime.length - 1]! += total;
    p.record(op, phase, total - children);
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording the graph (evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export class OpContext<S> {
  private readonly savedViews: Tensor[] = [];
  state!: S;
  constructor(
    /** One flag per tensor input (in argument order): does that input need a gradient? */
    readonly needsGrad: readonly boolean[],
  ) {}

  /** Keeps a tensor for the backward (an untracked view: the caller may dispose its own). */
  save(t: Tensor): Tensor {
    const v = t.view(t.shape, t.byteOffset, false);
    this.savedViews.push(v);
    return v;
  }

  releaseSaved(): void {
    for (const t of this.savedViews) t.dispose();
    this.savedViews.length = 0;
  }
}

export interface OpDef<A extends unknown[], S> {
  name: string;
  forward(ctx: OpContext<S>, ...args: A): Tensor;
  /** Gradients for the tensor inputs, in the order they appear in the arguments (null: none). */
  backward(ctx: OpContext<S>, gradOut: Tensor): (Tensor | null)[];
}

export class Node<S = unknown> implements GradNode {
  released = false;
  constructor(
    readonly def: OpDef<never, S>,
    readonly ctx: OpContext<S>,
    readonly inputs: readonly Tensor[],
    readonly outShape: readonly number[],
  ) {}
  get op(): string {
    return this.def.name;
  }
  release(): void {
    if (this.released) return;
    this.released = true;
    this.ctx.releaseSaved();
  }
}

/** Tensor inputs of an argument list, including tensors inside arrays (concat). */
function tensorArgs(args: readonly unknown[]): Tensor[] {
  const out: Tensor[] = [];
  for (const a of args) {
    if (a instanceof Tensor) out.push(a);
    else if (Array.isArray(a)) for (const x of a) if (x instanceof Tensor) out.push(x);
  }
  return out;
}

export function defineOp<A extends unknown[], S = undefined>(def: OpDef<A, S>): (...args: A) => Tensor {
  return (...args: A): Tensor => {
    const inputs = tensorArgs(args);
    for (const t of inputs) t.assertAlive(def.name);
    const needsGrad = inputs.map((t) => gradEnabled && t.requiresGrad);
    const record = needsGrad.some(Boolean);
    const ctx = new OpContext<S>(needsGrad);
    const prev = gradEnabled;
    gradEnabled = false;
    let out: Tensor;
    try {
      out = profiled(def.name, "forward", () => def.forward(ctx, ...args));
    } catch (e) {
      ctx.releaseSaved();
      throw e;
    } finally {
      gradEnabled = prev;
    }
    if (!record) {
      ctx.releaseSaved();
      return out;
    }
    const node = new Node(def as unknown as OpDef<never, S>, ctx, inputs, out.shape);
    trackNode(node);
    out.node = node;
    out.requiresGrad = true;
    return out;
  };
}

/** Nodes reachable backwards from the given tensors, in topological order (outputs first). */
export function graphOrder(roots: readonly Tensor[]): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>();
  const visit = (n: Node): void => {
    // Iterative DFS: decoder graphs are thousands of nodes deep.
    const stack: [Node, number][] = [[n, 0]];
    seen.add(n);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      if (i < node.inputs.length) {
        top[1]++;
        const child = node.inputs[i]!.node as Node | null;
        if (child && !seen.has(child)) {
          seen.add(child);
          stack.push([child, 0]);
        }
      } else {
        stack.pop();
        order.push(node);
      }
    }
  };
  for (const r of roots) if (r.node && !seen.has(r.node as Node)) visit(r.node as Node);
  return order.reverse();
}

setGraphWalker<Tensor, GradNode>((roots) => new Set<GradNode>(graphOrder(roots)));

function accumulateLeaf(t: Tensor, g: Tensor): void {
  if (!t.grad) {
    t.grad = t.backend === g.backend ? g.view(g.shape, g.byteOffset, false) : g;
    t.grad.name = t.name ? `${t.name}.grad` : undefined;
  } else {
    t.backend.axpy(t.grad, g, 1);
  }
}

/** Callbacks run when a leaf's gradient for the current backward is complete (see onGradReady). */
const gradReadyHooks = new Map<Tensor, Set<(leaf: Tensor) => void>>();

/**
 * Calls `fn(leaf)` during each backward, as soon as every op that uses `leaf` has added its share to
 * `leaf.grad` (as torch's register_post_accumulate_grad_hook): an optimizer may step that tensor and
 * free its gradient there instead of holding every gradient until backward ends. Runs with recording
 * off, inside backward's scope (tensors it makes and does not keep are freed when backward ends).
 * Returns a function that removes the hook.
 */
export function onGradReady(leaf: Tensor, fn: (leaf: Tensor) => void): () => void {
  const set = gradReadyHooks.get(leaf) ?? new Set();
  gradReadyHooks.set(leaf, set);
  set.add(fn);
  return () => {
    set.delete(fn);
    if (set.size === 0 && gradReadyHooks.get(leaf) === set) gradReadyHooks.delete(leaf);
  };
}

/** Backward calls in progress: a nested one (gradient checkpointing's recompute) fires no hooks. */
let backwardDepth = 0;

/**
 * For each position in `order`: the hooked leaves whose last use (needing a gradient) is that node.
 * Only the outermost backward fires hooks: a recomputed block's leaves are inputs of its checkpoint
 * node in the outer graph, which is where their gradient is complete.
 */
function readyAfter(order: readonly Node[]): Map<number, Tensor[]> {
  const out = new Map<number, Tensor[]>();
  if (gradReadyHooks.size === 0 || backwardDepth > 1) return out;
  const last = new Map<Tensor, number>();
  order.forEach((node, i) => {
    node.inputs.forEach((input, j) => {
      if (!input.node && node.ctx.needsGrad[j] && gradReadyHooks.has(input)) last.set(input, i);
    });
  });
  for (const [leaf, i] of last) {
    const list = out.get(i);
    if (list) list.push(leaf);
    else out.set(i, [leaf]);
  }
  return out;
}

function fireReady(leaves: readonly Tensor[] | undefined): void {
  for (const leaf of leaves ?? []) {
    if (!leaf.grad) continue;
    for (const fn of [...(gradReadyHooks.get(leaf) ?? [])]) fn(leaf);
  }
}

/**
 * Backpropagates from `root` (a scalar unless `gradOut` is given). Leaf tensors with requiresGrad
 * receive `.grad` (accumulated across calls); every node on the way is released.
 */
export function backward(root: Tensor, gradOut?: Tensor): void {
  root.assertAlive("backward");
  if (!root.node) throw new Error(`backward: ${root} has no graph (was it produced with requiresGrad inputs, outside noGrad?)`);
  if (!gradOut && root.numel !== 1) throw new ShapeError(`backward: root has shape ${formatShape(root.shape)}; pass gradOut for a non-scalar root`);
  if (gradOut && !sameShape(gradOut.shape, root.shape))
    throw new ShapeError(`backward: gradOut ${formatShape(gradOut.shape)} must match root ${formatShape(root.shape)}`);
  const order = graphOrder([root]);
  backwardDepth++;
  try {
    backwardInScope(root, order, gradOut);
  } finally {
    backwardDepth--;
  }
}

function backwardInScope(root: Tensor, order: readonly Node[], gradOut: Tensor | undefined): void {
  noGrad(() =>
    tidy(() => {
      const grads = new Map<Node, Tensor>();
      if (gradOut) {
        grads.set(root.node as Node, gradOut);
      } else {
        const one = Tensor.alloc(root.backend, root.shape, "f32");
        root.backend.fill(one, 1);
        grads.set(root.node as Node, one);
      }
      const ready = readyAfter(order);
      order.forEach((node, index) => {
        const g = grads.get(node);
        grads.delete(node);
        if (!g) {
          node.release();
          fireReady(ready.get(index));
          return;
        }
        const inputGrads = profiled(node.def.name, "backward", () => node.def.backward(node.ctx as OpContext<never>, g));
        node.release();
        if (g !== gradOut) g.dispose();
        node.inputs.forEach((input, i) => {
          const ig = inputGrads[i];
          if (!ig || !node.ctx.needsGrad[i]) return;
          if (!sameShape(ig.shape, input.shape))
            throw new ShapeError(
              `backward of ${node.op}: gradient ${formatShape(ig.shape)} for input ${i} does not match its shape ${formatShape(input.shape)}`,
            );
          const child = input.node as Node | null;
          if (!child) {
            accumulateLeaf(input, ig);
            return;
          }
          const prev = grads.get(child);
          if (prev) prev.backend.axpy(prev, ig, 1);
          else grads.set(child, ig.view(ig.shape, ig.byteOffset, false));
        });
        // The op's own handles go now (the map holds views, a leaf its .grad): an input's gradient is
        // freed once its node has consumed it, not when the whole backward ends (a recomputed block
        // would otherwise keep every gradient of its layer alive at once).
        for (const [i, ig] of inputGrads.entries()) if (ig && ig !== gradOut && ig !== node.inputs[i]?.grad) ig.dispose();
        fireReady(ready.get(index));
      });
      for (const g of grads.values()) g.dispose();
    }),
  );
}

/**
 * Runs fn with recording on, even inside a backward (which runs with recording off): gradient
 * checkpointing (core/nn/recompute.ts) re-runs a block's forward there and differentiates it.
 */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}
