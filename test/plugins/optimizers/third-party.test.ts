// A third-party optimizer, shipped in a package beside a recipe: `use "lft-optimizer-signum"` registers
// Signum (sign-SGD with momentum, Bernstein et al. 2018) with an option of its own, `train pt
// { optimizer = signum, signum_beta = 0.5 }` trains a tiny model with it through lft's one train loop
// (the loss falls, the option reaches the optimizer and its state is checkpointed under its own
// name), and a misspelt option of it fails `lft check` at its key with a did-you-mean.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "../../../dsl/cli.ts";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { captureIO, type LftRun, lft, REPO, STORIES, scratch } from "../runner/helpers.ts";

const { dir, cleanup } = scratch("signum");
afterAll(cleanup);

// What the package's author writes: an OptimizerEntry over lft's public core only. The update runs
// on the host (a plugin needs no kernel to be correct); its state is one slot per parameter.
const SIGNUM = `
import { err, ok } from "neverthrow";
import { checkMeta, definePlugin, dropGrads, exportSlots, slotData, stateTensor } from "lft/core/index.ts";

const options = {
  signum_beta: { type: "number", min: 0, max: 1, default: 0, doc: "momentum of the sign (0: plain sign-SGD)" },
};

class Signum {
  kind = "signum";
  step = 0;
  state = new Map();
  constructor(groups, lr, beta) {
    this.groups = groups;
    this.params = groups.flatMap((g) => g.params);
    this.lr = lr;
    this.beta = beta;
  }
  update() {
    this.step++;
    for (const g of this.groups) {
      for (const p of g.params) {
        if (!p.grad) continue;
        let st = this.state.get(p);
        if (!st) this.state.set(p, (st = { m: stateTensor(p), step: 0 }));
        const m = st.m.toArray(), grad = p.grad.toArray(), w = p.toArray();
        const lr = this.lr * g.lrScale;
        for (let i = 0; i < w.length; i++) {
          m[i] = this.beta * m[i] + (1 - this.beta) * grad[i];
          w[i] -= lr * (Math.sign(m[i]) + g.weightDecay * w[i]);
        }
        p.backend.upload(st.m, m);
        p.backend.upload(p, w);
        st.step++;
      }
    }
  }
  zeroGrad() { dropGrads(this.params); }
  exportState() {
    const { params, tensors } = exportSlots(this.params, this.state, (st) => [["m", st.m]]);
    return { meta: { kind: this.kind, step: this.step, paramCount: this.params.length, params, hyper: { signum_beta: this.beta } }, tensors };
  }
  importState(raw, tensors) {
    const meta = checkMeta(raw, this.kind, this.params.length);
    if (meta.isErr()) return err(meta.error);
    for (const { index, step } of meta.value.params) {
      const p = this.params[index];
      const m = slotData(tensors, index, "m", p, String(index));
      if (m.isErr()) return err(m.error);
      this.state.set(p, { m: stateTensor(p, m.value), step });
    }
    this.step = meta.value.step;
    return ok(undefined);
  }
  dispose() { for (const { m } of this.state.values()) m.dispose(); this.state.clear(); }
}

export default definePlugin({
  name: "lft-optimizer-signum",
  version: "1.0.0",
  setup(api) {
    api.register.optimizers({
      name: "signum",
      doc: "sign-SGD with momentum",
      options,
      build: (groups, { lr, options }) => ok(new Signum(groups, lr, options.signum_beta)),
      stateBytes: (groups) => 4 * groups.reduce((n, g) => n + g.params.reduce((k, p) => k + p.numel, 0), 0),
    });
  },
});
`;

const lines = Array.from({ length: 24 }, (_, i) => `Tom has a red ball number ${i % 3}. He gives the red ball to Sue, and Sue says thank you.`);
const recipe = (options: string) => `use "lft-optimizer-signum"
model llama "${STORIES}" { dtype = f32 }
dataset text "corpus.txt"
method full
train pt for 12 steps { ${options}, lr = 2e-3, batch = 4, cutoff = 64, pack = true, scheduler = constant, output = "runs/signum", log_every = 1000 }
`;

let run: LftRun;
beforeAll(async () => {
  const pkg = join(dir, "node_modules", "lft-optimizer-signum");
  mkdirSync(pkg, { recursive: true });
  // The "lft" field declares what the package provides, so `lft check` validates its options without
  // running it; a run imports it and compares.
  const provides = {
    optimizers: {
      signum: { doc: "sign-SGD with momentum", options: { signum_beta: { type: "number", min: 0, max: 1, default: 0, doc: "momentum of the sign" } } },
    },
  };
  const manifest = { name: "lft-optimizer-signum", version: "1.0.0", type: "module", main: "index.js", lft: { entry: "./index.js", provides } };
  writeFileSync(join(pkg, "package.json"), JSON.stringify(manifest));
  writeFileSync(join(pkg, "index.js"), SIGNUM);
  // The package reaches lft as a peer dependency, as examples/plugin-hello does, and has neverthrow
  // installed as its own dependency (linked here: nothing is downloaded).
  symlinkSync(REPO, join(dir, "node_modules", "lft"));
  symlinkSync(join(REPO, "node_modules", "neverthrow"), join(dir, "node_modules", "neverthrow"));
  writeFileSync(join(dir, "corpus.txt"), `${lines.join("\n")}\n`);
  run = await lft(dir, "signum.lft", recipe("optimizer = signum, signum_beta = 0.5"));
}, 60_000);

test("a recipe trains with the plugin's optimizer: the loss falls", () => {
  expect(run.err).not.toMatch(/\n\s+at /);
  expect(run.code).toBe(ExitCode.ok);
  const trained = /train pt: 12 steps .* loss ([\d.]+) → ([\d.]+)/.exec(run.out);
  expect(trained).not.toBeNull();
  const [first, last] = trained!.slice(1).map(Number);
  expect(last!).toBeLessThan(first! * 0.8);
});

test("its option reached it, and its state is checkpointed under its own name", () => {
  const saved = JSON.parse(readFileSync(join(dir, "runs/signum/checkpoint-12/optimizer.json"), "utf8")) as {
    kind: string;
    step: number;
    hyper: Record<string, number>;
  };
  expect(saved).toMatchObject({ kind: "signum", step: 12, hyper: { signum_beta: 0.5 } });
});

test("lft check: a misspelt option of the plugin's optimizer is located, with a did-you-mean", async () => {
  writeFileSync(join(dir, "typo.lft"), recipe("optimizer = signum, signum_bta = 0.5"));
  const io = captureIO(dir);
  const code = await main(["check", "typo.lft"], io);
  expect(code).toBe(ExitCode.recipeError);
  expect(io.err()).toContain('typo.lft:5:45: train "pt": unknown option "signum_bta"; did you mean "signum_beta"?');
  writeFileSync(join(dir, "range.lft"), recipe("optimizer = signum, signum_beta = 2"));
  const range = captureIO(dir);
  expect(await main(["check", "range.lft"], range)).toBe(ExitCode.recipeError);
  expect(range.err()).toContain('range.lft:5:59: train "pt": option "signum_beta" must be in [0, 1], found 2');
});
