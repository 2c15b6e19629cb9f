// The stage-owned module contract (StageEntry.prepare -> StagePrepared) as the runner plumbs it, with a
// probe stage that is not rm: its own parameter joins the optimizer (it changes), sits in every
// checkpoint under its name, is saved by the stage after the method's result, and a name that clashes
// with the method's parameters stops the run before training.
import { afterAll, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ok } from "neverthrow";
import { causalLmLoss, definePlugin, keep, openSafetensors, ops, type Tensor, tensor, writeSafetensors } from "../../../core/index.ts";
import { lftPlugin } from "../../../dsl/commands/index.ts";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { loadRecipeFile } from "../../../dsl/pipeline.ts";
import { runRecipe } from "../../../dsl/run.ts";
import { openSession } from "../../../dsl/session.ts";
import { supervisedProcessor } from "../../../plugins/stages/index.ts";
import { captureIO, IDENTITY, STORIES, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("stage-modules");
afterAll(cleanup);

/** A stage whose loss is the sft loss times a trainable scalar it owns (named `name`). */
function probe(name: string, log: { start?: number; saved?: string }) {
  return definePlugin({
    name: "probe-stage",
    setup: (api) =>
      api.register.stages({
        name: "probe",
        doc: "sft loss scaled by a stage-owned scalar",
        processor: supervisedProcessor,
        options: {},
        loss: (model, batch) => causalLmLoss(model, batch),
        prepare: () => {
          const scale = keep(tensor(Float32Array.from([1]), [1], { requiresGrad: true }));
          log.start = scale.toArray()[0];
          return ok({
            params: { [name]: scale as Tensor },
            loss: (model, batch) => {
              const base = causalLmLoss(model, batch);
              return { ...base, loss: ops.reshape(ops.mul(ops.reshape(base.loss, [1]), scale), []) };
            },
            save: (out: string) => {
              log.saved = join(out, "probe.safetensors");
              return writeSafetensors(log.saved, [{ name, data: scale }]).map(() => [log.saved!]);
            },
            dispose: () => scale.dispose(),
          });
        },
      }),
  });
}

async function run(file: string, paramName: string) {
  const log: { start?: number; saved?: string } = {};
  writeFileSync(
    join(dir, file),
    `model llama "${STORIES}" { template = default }
dataset alpaca "${IDENTITY}"
method lora { targets = [all] }
train probe for 3 steps { lr = 1e-2, batch = 4, save_every = 2, output = "runs/${file}", log_every = 1000 }
`,
  );
  const io = captureIO(dir);
  const { session } = await openSession({ mode: "cli", io, core: lftPlugin, projectPlugins: false });
  session.registry.use(probe(paramName, log))._unsafeUnwrap();
  const loaded = (await loadRecipeFile(file, session.registry, dir))._unsafeUnwrap();
  const code = await runRecipe(loaded.checked.recipe, session.registry, { io, live: session.live, signal: new AbortController().signal });
  return { code, out: io.out(), err: io.err(), log };
}

test("a stage's own parameter trains, is checkpointed under its name, and is saved by the stage", async () => {
  const r = await run("ok.lft", "probe.scale");
  expect(r.code).toBe(ExitCode.ok);
  expect(r.out).toContain("train probe: lora adapter + probe.safetensors written to runs/ok.lft");
  for (const ck of ["checkpoint-2", "checkpoint-3"]) {
    const f = openSafetensors(join(dir, "runs/ok.lft", ck, "model.safetensors"))._unsafeUnwrap();
    expect(f.has("probe.scale")).toBe(true);
    f.close();
  }
  const saved = openSafetensors(r.log.saved!)._unsafeUnwrap();
  const value = new Float32Array(saved.bytes("probe.scale")._unsafeUnwrap().slice().buffer)[0]!;
  saved.close();
  // lr 1e-2 on a scalar whose gradient is the (positive) loss: it moved from 1.
  expect(value).not.toBe(r.log.start!);
  expect(value).toBeLessThan(1);
});

test("a stage parameter named like one of the method's stops the run before training", async () => {
  const clash = "model.layers.0.self_attn.q_proj.lora_A.weight";
  const r = await run("clash.lft", clash);
  expect(r.code).toBe(ExitCode.runFailed);
  expect(r.err).toContain(`train probe: the stage's parameters ${clash} have the names of the method's`);
  expect(existsSync(join(dir, "runs/clash.lft/checkpoint-1"))).toBe(false);
});
