// Scopes: every tensor created inside `tidy(fn)` is disposed when fn returns, except those it returns
// (or that were `keep()`-ed). A training step in a scope therefore returns its memory to the cache.
// Autograd nodes created in the scope are released too unless a returned tensor still needs them.
//
// Scopes know tensors and autograd nodes only by what they do with them (dispose, release), so this
// file imports nothing from tensor.ts, which imports it to track each new tensor.

/** What a scope does with a tensor: dispose it (tensor.ts's Tensor fits). */
interface ScopedTensor {
  dispose(): void;
}
/** What a scope does with an autograd node: release its saved tensors (tensor.ts's GradNode fits). */
interface ScopedNode {
  release(): void;
}
type Tensor = ScopedTensor;
type GradNode = ScopedNode;

interface Scope {
  tensors: Tensor[];
  nodes: GradNode[];
}

const stack: Scope[] = [];

export function trackTensor(t: Tensor): void {
  stack[stack.length - 1]?.tensors.push(t);
}

export function trackNode(n: GradNode): void {
  stack[stack.length - 1]?.nodes.push(n);
}

const kept = new WeakSet<Tensor>();

/** Exempts a tensor from the scopes it was created in (it lives until disposed by hand). */
export function keep<T extends Tensor>(t: T): T {
  kept.add(t);
  return t;
}

/** Tensors reachable in a returned value (a tensor, or arrays/plain objects of them). */
function collect(value: unknown, out: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  if ((value as { storage?: unknown }).storage !== undefined && "shape" in (value as object)) {
    out.add(value as Tensor);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out, seen);
}

/** Graph nodes that a kept tensor may still backpropagate through. */
export type NodeWalker<T extends ScopedTensor = ScopedTensor, N extends ScopedNode = ScopedNode> = (roots: T[]) => Set<N>;
let walkGraph: NodeWalker = () => new Set();
/** Set once by the autograd tape (tape.ts), which knows the real tensor and node types. */
export function setGraphWalker<T extends ScopedTensor, N extends ScopedNode>(w: NodeWalker<T, N>): void {
  walkGraph = w as unknown as NodeWalker;
}

export function tidy<T>(fn: () => T): T {
  const scope: Scope = { tensors: [], nodes: [] };
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    stack.pop();
    release(scope, new Set());
    throw e;
  }
  stack.pop();
  const survivors = new Set<Tensor>();
  collect(result, survivors);
  for (const t of scope.tensors) if (kept.has(t)) survivors.add(t);
  release(scope, survivors);
  // Survivors belong to the enclosing scope now.
  const parent = stack[stack.length - 1];
  if (parent) {
    const created = new Set(scope.tensors);
    for (const t of survivors) if (created.has(t) && !kept.has(t)) parent.tensors.push(t);
    parent.nodes.push(...scope.nodes.filter((nd) => liveNodes.has(nd)));
  }
  return result;
}

let liveNodes = new Set<GradNode>();

function release(scope: Scope, survivors: Set<Tensor>): void {
  liveNodes = walkGraph([...survivors]);
  for (const nd of scope.nodes) if (!liveNodes.has(nd)) nd.release();
  for (const t of scope.tensors) if (!survivors.has(t)) t.dispose();
}

/** Number of open scopes (tests check that a failed step unwinds them). */
export function scopeDepth(): number {
  return stack.length;
}
