// The checks every family test runs, registered as bun tests: make-tiny writes a real HF folder that
// loads, saves byte for byte and tokenizes with its real tokenizer; logits match the float64 HF reference
// (hf-reference.ts) at the family's tiny config with random weights and on the make-tiny checkpoint
// itself; gradients of chosen parameters match finite differences of the reference loss.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  backward,
  type CausalLM,
  createRegistry,
  type HfConfig,
  loadModel,
  type ModelFamily,
  type ModelSpec,
  noGrad,
  openCheckpoint,
  ops,
  type Plugin,
  saveModel,
  tensor,
  tidy,
} from "../../../core/index.ts";
import { loadTokenizer } from "../../../core/tokenizer/load.ts";
import { makeTiny } from "../../../plugins/commands/index.ts";
import { randomize } from "../../core/nn/helpers.ts";
import { expectClose, relError } from "../../helpers/compare.ts";
import { hfReference, type RefFamily, refLoss, type Weights } from "./hf-reference.ts";

export const ROWS = [
  [1, 5, 9, 13, 17, 21, 25],
  [3, 3, 60, 0, 12, 7, 30],
];

export function registryWith(plugin: Plugin) {
  const registry = createRegistry();
  registry.use(plugin);
  return registry;
}

export function logitsOf(model: CausalLM, rows: number[][]): Float32Array {
  return noGrad(() => tidy(() => model.forward(tensor(rows.flat(), [rows.length, rows[0]!.length], { dtype: "i32" })).toArray() as Float32Array));
}

export function weightsOf(model: CausalLM): Weights {
  return new Map(model.namedParameters().map(([n, t]) => [n, Float64Array.from(t.toArray())]));
}

export const flat = (x: Float64Array[][]) => Float64Array.from(x.flatMap((row) => row.flatMap((v) => [...v])));

/** The family's tiny config at a 64-token vocabulary (special ids inside it): fast references and gradients. */
export function smallConfig(family: ModelFamily, over: HfConfig = {}): HfConfig {
  return { ...family.tiny.config, vocab_size: 64, bos_token_id: 1, eos_token_id: 2, pad_token_id: null, ...over };
}

/** A model of `config` with random weights (std 0.3 matrices, norms and biases around their neutral value). */
export function randomFamilyModel<S extends ModelSpec>(family: ModelFamily<S>, config: HfConfig, seed = 1): CausalLM<S> {
  return randomize(family.build(family.fromConfig(config)._unsafeUnwrap()), seed);
}

/** Relative error of lft's logits against the reference for a config (random weights). */
/**
 * An independent float64 forward: logits [row][t][vocab] for a config and HF-named weights. A family name
 * picks hf-reference.ts's; a new family may bring its own (test/plugins/models/ref/<family>.ts).
 */
export type RefForward = (config: HfConfig, W: Weights, rows: number[][]) => Float64Array[][];
export type Ref = RefFamily | RefForward;

/** The reference's logits for `ref`, whichever form it takes. */
export function referenceLogits(ref: Ref, config: HfConfig, W: Weights, rows: number[][]): Float64Array[][] {
  return typeof ref === "function" ? ref(config, W, rows) : hfReference(ref, config, W, rows);
}

export function referenceError(family: ModelFamily, ref: Ref, config: HfConfig, rows = ROWS, seed = 1): number {
  const model = randomFamilyModel(family, config, seed);
  try {
    return relError(logitsOf(model, rows), flat(referenceLogits(ref, config, weightsOf(model), rows)));
  } finally {
    model.dispose();
  }
}

export interface FamilyChecks {
  family: ModelFamily;
  plugin: Plugin;
  ref: Ref;
  /**
   * Text -> ids the family's tokenizer must give (Hugging Face's own). Without it the make-tiny reference
   * check runs on fixed ids (the 256k Gemma tokenizer takes ~2 s to load: one family test loads it).
   */
  tokenizerCheck?: [string, number[]];
  /** Parameters and flat indices whose gradients are checked by finite differences. */
  gradients: [string, number[]][];
  /** Extra config keys for the gradient model (e.g. stronger soft-caps). */
  gradientConfig?: HfConfig;
}

/** Registers the shared tests; returns the make-tiny folder (valid inside tests) for family-specific ones. */
export function familyChecks(c: FamilyChecks): { tinyDir: () => string } {
  const registry = registryWith(c.plugin);
  let root = "";
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), `lft-${c.family.name}-`));
    makeTiny(c.family, join(root, "tiny"), { seed: 3 })._unsafeUnwrap();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const tiny = () => join(root, "tiny");

  test(`${c.family.name}: make-tiny writes the HF layout with the family's exact weight names`, () => {
    const config = JSON.parse(readFileSync(join(tiny(), "config.json"), "utf8"));
    expect(config.model_type).toBe(c.family.modelTypes[0]);
    const spec = c.family.fromConfig(config)._unsafeUnwrap();
    const ckpt = openCheckpoint(tiny())._unsafeUnwrap();
    const want = c.family.weightNames(spec);
    expect([...ckpt.names()].sort()).toEqual(want.map((w) => w.name).sort());
    for (const { name, shape } of want) expect(ckpt.info(name)._unsafeUnwrap().shape).toEqual([...shape]);
    ckpt.close();
  });

  test(`${c.family.name}: load -> save -> load keeps every tensor byte for byte and the logits`, () => {
    const a = loadModel(tiny(), registry)._unsafeUnwrap();
    expect(a.family.name).toBe(c.family.name);
    expect(a.warnings).toEqual([]);
    const again = join(root, "again");
    saveModel(a.model, again, { generation: a.generation.raw })._unsafeUnwrap();
    expect(readFileSync(join(again, "config.json"), "utf8")).toBe(readFileSync(join(tiny(), "config.json"), "utf8"));
    const [c1, c2] = [openCheckpoint(tiny())._unsafeUnwrap(), openCheckpoint(again)._unsafeUnwrap()];
    expect(c2.names()).toEqual(c1.names());
    for (const n of c1.names()) expect(Buffer.compare(c1.bytes(n)._unsafeUnwrap(), c2.bytes(n)._unsafeUnwrap())).toBe(0);
    c1.close();
    c2.close();
    const b = loadModel(again, registry)._unsafeUnwrap();
    expect(relError(logitsOf(b.model, ROWS), logitsOf(a.model, ROWS))).toBe(0);
    a.model.dispose();
    b.model.dispose();
  });

  test(`${c.family.name}: the make-tiny checkpoint's logits match the float64 reference${c.tokenizerCheck ? ", through its real tokenizer" : ""}`, () => {
    const { model, spec } = loadModel(tiny(), registry)._unsafeUnwrap();
    let rows = [[2, 4521, 2134, 1, 450, 4996, 17354, 1701]];
    if (c.tokenizerCheck) {
      const tok = loadTokenizer(tiny())._unsafeUnwrap();
      const [text, ids] = c.tokenizerCheck;
      expect(tok.encode(text)).toEqual(ids);
      rows = [tok.encode("Once upon a time, in a far away land")];
    }
    const config = JSON.parse(readFileSync(join(tiny(), "config.json"), "utf8"));
    expect(Math.max(...rows[0]!)).toBeLessThan(spec.vocabSize);
    // f32 kernels vs f64 loops: ~1e-6 is typical; 1e-4 is the bar.
    expectClose(logitsOf(model, rows), flat(referenceLogits(c.ref, config, weightsOf(model), rows)), 1e-4, `${c.family.name} tiny logits`);
    model.dispose();
  });

  test(`${c.family.name}: random weights at the tiny config match the float64 reference (relative error < 1e-4)`, () => {
    expect(referenceError(c.family, c.ref, smallConfig(c.family))).toBeLessThan(1e-4);
  });

  test(`${c.family.name}: gradients of ${c.gradients.map(([n]) => n.split(".").slice(-3).join(".")).join(", ")} match finite differences of the reference loss`, () => {
    const config = smallConfig(c.family, c.gradientConfig);
    const model = randomFamilyModel(c.family, config, 11);
    const rows = [ROWS[0]!.slice(0, 6), ROWS[1]!.slice(0, 6)];
    const [B, T] = [rows.length, rows[0]!.length];
    tidy(() => {
      const targets = rows.flatMap((row) => row.map((_, t) => (t + 1 < T ? row[t + 1]! : -100)));
      const logits = ops.reshape(model.forward(tensor(rows.flat(), [B, T], { dtype: "i32" })), [B * T, 64]);
      backward(ops.crossEntropy(logits, tensor(targets, [B * T], { dtype: "i32" })));
    });
    const W = weightsOf(model);
    for (const [name, idx] of c.gradients) {
      const grad = model.getParameter(name)?.grad?.toArray();
      if (!grad) throw new Error(`${name}: no gradient reached it`);
      const x = W.get(name)!;
      for (const i of idx) {
        const keep = x[i]!;
        const h = 1e-5;
        x[i] = keep + h;
        const up = refLoss(referenceLogits(c.ref, config, W, rows), rows);
        x[i] = keep - h;
        const down = refLoss(referenceLogits(c.ref, config, W, rows), rows);
        x[i] = keep;
        const numeric = (up - down) / (2 * h);
        // f32 forward/backward against f64 differences: ~1e-5 absolute on gradients of ~1e-2..1.
        expect(Math.abs(grad[i]! - numeric)).toBeLessThan(2e-4 + 1e-3 * Math.abs(numeric));
        expect(Math.abs(numeric)).toBeGreaterThan(1e-6); // the parameter matters to the loss
      }
    }
    model.dispose();
  });

  return { tinyDir: tiny };
}
