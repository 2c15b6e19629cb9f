// Module: a tree of named submodules and parameter slots whose dotted paths ARE the Hugging Face weight
// names (`model.layers.0.self_attn.q_proj.weight`), so loading, saving, adapters and freezing all speak
// one naming. A slot declares its shape before any memory exists (building a tree allocates nothing);
// `initParameters` or the loader fills it.
import { err, ok, type Result } from "neverthrow";
import { full, randn } from "../tensor/create.ts";
import type { DType } from "../tensor/dtype.ts";
import { keep } from "../tensor/scope.ts";
import { formatShape, type Shape, sameShape } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** How a slot is filled by `initParameters`: normal(0, std), or a constant (norm weights, biases). */
export type ParamInit = "normal" | "zeros" | "ones";

export class ParamSlot {
  tensor: Tensor | null = null;
  /** Whether the parameter receives gradients (applied to whatever tensor fills the slot). */
  trainable = true;
  constructor(
    readonly shape: Shape,
    readonly init: ParamInit,
  ) {}
}

export class ModuleError extends Error {
  override readonly name = "ModuleError";
  constructor(
    message: string,
    /** Every problem found, one line each (a load reports all missing/mismatched tensors at once). */
    readonly problems: readonly string[] = [message],
  ) {
    super(message);
  }
}

/** Dtypes a parameter may be stored in: f32, or bf16/f16 for frozen weights cast per use. */
const PARAM_DTYPES: readonly DType[] = ["f32", "bf16", "f16"];

export interface InitOptions {
  seed: number | bigint;
  /** Standard deviation of "normal" slots; HF's `initializer_range` (0.02) by default. */
  std?: number;
}

export abstract class Module {
  private readonly slots = new Map<string, ParamSlot>();
  private readonly children = new Map<string, Module>();

  /** Declares a parameter slot (no memory yet); paths are `<module path>.<name>`. */
  protected declareParameter(name: string, shape: Shape, init: ParamInit = "normal"): ParamSlot {
    if (this.slots.has(name) || this.children.has(name)) throw new Error(`module already has a member named "${name}"`);
    const slot = new ParamSlot([...shape], init);
    this.slots.set(name, slot);
    return slot;
  }

  protected addModule<M extends Module>(name: string, m: M): M {
    if (this.slots.has(name) || this.children.has(name)) throw new Error(`module already has a member named "${name}"`);
    this.children.set(name, m);
    return m;
  }

  /** The tensor in a slot of this module, with an error naming it when nothing filled it yet. */
  protected tensorOf(slot: ParamSlot, what: string): Tensor {
    if (!slot.tensor) throw new ModuleError(`${what} has no tensor yet: load the model or call initParameters`);
    return slot.tensor;
  }

  /** Direct parameter slots, by local name. Linear adds its adapter's here. */
  protected localSlots(): Iterable<[string, ParamSlot]> {
    return this.slots.entries();
  }

  /** Direct submodules, by local name. */
  namedChildren(): Iterable<[string, Module]> {
    return this.children.entries();
  }

  /**
   * Every slot in the tree, depth-first in declaration order (stable: saving and loading rely on it).
   * `adapters: false` leaves out the slots of adapters attached to Linear layers (the base weights only).
   */
  namedSlots(prefix = "", adapters = true): [string, ParamSlot][] {
    const out: [string, ParamSlot][] = [];
    for (const [n, s] of this.localSlots()) out.push([prefix + n, s]);
    for (const [n, m] of this.namedChildren()) out.push(...m.namedSlots(`${prefix}${n}.`, adapters));
    return out;
  }

  /** Every submodule with its path (the root is ""). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ""), this]];
    for (const [n, m] of this.namedChildren()) out.push(...m.namedModules(`${prefix}${n}.`));
    return out;
  }

  /** Filled parameters with their HF names. */
  namedParameters(): [string, Tensor][] {
    return this.namedSlots().flatMap(([p, s]) => (s.tensor ? [[p, s.tensor] as [string, Tensor]] : []));
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Parameters that receive gradients (what an optimizer is given). */
  trainableParameters(): [string, Tensor][] {
    return this.namedSlots().flatMap(([p, s]) => (s.tensor && s.trainable ? [[p, s.tensor] as [string, Tensor]] : []));
  }

  /** Names and shapes of the base slots (adapters excluded): what a checkpoint for this tree holds. */
  parameterShapes(): { name: string; shape: Shape }[] {
    return this.namedSlots("", false).map(([name, s]) => ({ name, shape: s.shape }));
  }

  /** Slots no tensor has filled yet. */
  missingParameters(): string[] {
    return this.namedSlots().flatMap(([p, s]) => (s.tensor ? [] : [p]));
  }

  getParameter(path: string): Tensor | undefined {
    return this.slotAt(path)?.tensor ?? undefined;
  }

  private slotAt(path: string): ParamSlot | undefined {
    return this.namedSlots().find(([p]) => p === path)?.[1];
  }

  /**
   * Puts `t` in the slot at `path` (the module takes ownership; a previous tensor is disposed). The
   * shape must match the slot; f32, bf16 and f16 are accepted, and a half tensor is always frozen.
   */
  setParameter(path: string, t: Tensor): Result<void, ModuleError> {
    const slot = this.slotAt(path);
    if (!slot) {
      const near = this.namedSlots()
        .map(([p]) => p)
        .filter((p) => p.split(".").pop() === path.split(".").pop())
        .slice(0, 3);
      return err(
        new ModuleError(`no parameter named "${path}" in this model${near.length ? ` (parameters with that last component: ${near.join(", ")})` : ""}`),
      );
    }
    if (!sameShape(slot.shape, t.shape))
      return err(new ModuleError(`parameter "${path}": expected shape ${formatShape(slot.shape)}, got ${formatShape(t.shape)}`));
    if (!PARAM_DTYPES.includes(t.dtype))
      return err(new ModuleError(`parameter "${path}": dtype ${t.dtype} is not a parameter dtype (${PARAM_DTYPES.join(", ")})`));
    t.assertAlive(`setParameter ${path}`);
    if (slot.tensor && slot.tensor !== t) slot.tensor.dispose();
    keep(t);
    t.name = path;
    if (t.dtype !== "f32") slot.trainable = false;
    t.requiresGrad = slot.trainable;
    slot.tensor = t;
    return ok(undefined);
  }

  /**
   * Fills every empty slot: "normal" slots with N(0, std) from Philox (each slot its own counter range,
   * in declaration order, so one seed gives one model), the others with their constant.
   */
  initParameters(o: InitOptions): void {
    const std = o.std ?? 0.02;
    this.namedSlots().forEach(([path, slot], i) => {
      if (slot.tensor) return;
      const t = slot.init === "normal" ? randn(slot.shape, { seed: o.seed, offset: BigInt(i) << 32n, std }) : full(slot.shape, slot.init === "ones" ? 1 : 0);
      this.setParameter(path, t)._unsafeUnwrap();
    });
  }

  /** Stops gradients for parameters whose path matches (all by default). Returns how many changed. */
  freeze(match: (path: string) => boolean = () => true): number {
    let n = 0;
    for (const [p, s] of this.namedSlots()) {
      if (!match(p) || !s.trainable) continue;
      s.trainable = false;
      if (s.tensor) {
        s.tensor.requiresGrad = false;
        s.tensor.grad?.dispose();
        s.tensor.grad = null;
      }
      n++;
    }
    return n;
  }

  /**
   * Makes matching parameters trainable. Half-precision storage cannot be trained in place (gradients
   * and optimizer updates are f32): those are refused together, and nothing changes.
   */
  unfreeze(match: (path: string) => boolean = () => true): Result<number, ModuleError> {
    const chosen = this.namedSlots().filter(([p]) => match(p));
    const half = chosen.filter(([, s]) => s.tensor && s.tensor.dtype !== "f32").map(([p, s]) => `${p} (${s.tensor!.dtype})`);
    if (half.length) {
      return err(
        new ModuleError(
          `cannot make ${half.length} half-precision parameter(s) trainable; load the model with dtype f32 to train them: ${half.slice(0, 5).join(", ")}${half.length > 5 ? ", ..." : ""}`,
          half,
        ),
      );
    }
    let n = 0;
    for (const [, s] of chosen) {
      if (s.trainable) continue;
      s.trainable = true;
      if (s.tensor) s.tensor.requiresGrad = true;
      n++;
    }
    return ok(n);
  }

  /** Frees every parameter (and gradient) in the tree; the slots become empty. */
  dispose(): void {
    for (const [, s] of this.namedSlots()) {
      s.tensor?.grad?.dispose();
      s.tensor?.dispose();
      s.tensor = null;
    }
    for (const [, m] of this.namedModules()) m.releaseOwned();
  }

  /** Frees memory a module holds outside its slots (a Linear's frozen quantised weight); dispose calls it. */
  protected releaseOwned(): void {}
}

/** Submodules named "0", "1", ... (`model.layers.3`). */
export class ModuleList<M extends Module> extends Module {
  readonly items: readonly M[];
  constructor(items: M[]) {
    super();
    for (const [i, m] of items.entries()) this.addModule(String(i), m);
    this.items = items;
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new RangeError(`module list: index ${i} out of range (length ${this.items.length})`);
    return m;
  }
}
