// `method qlora` through the real CLI: the model is quantised while loading (the runner takes the method's
// load hooks), training runs, the merged export is a plain bf16 model; a bitsandbytes 4-bit checkpoint
// loads under the same recipe.
import { afterAll, expect, test } from "bun:test";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRegistry, loadModel, openCheckpoint } from "../../../core/index.ts";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { writeBnb4bitModel } from "../../../plugins/methods/qlora/index.ts";
import llamaPlugin from "../../../plugins/models/llama.ts";
import { IDENTITY, lft, STORIES, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("qlora");
afterAll(cleanup);

test("qlora: quantised at load, trained, exported merged as bf16", async () => {
  const r = await lft(
    dir,
    "q.lft",
    `model llama "${STORIES}" { template = default }\ndataset alpaca "${IDENTITY}"\nmethod qlora { targets = [all], quant_type = nf4 }\ntrain sft for 6 steps { lr = 5e-3, batch = 4, log_every = 1000, output = "run" }\nexport "merged" { merge = true, dtype = bf16 }\n`,
  );
  expect(r.code).toBe(ExitCode.ok);
  expect(r.out).toMatch(/^model llama .*: 260,032 parameters .*f32\/nf4 on cpu/m);
  expect(r.out).toContain("merged model (qlora folded into the base weights)");
  const ckpt = openCheckpoint(join(dir, "merged"))._unsafeUnwrap();
  expect(ckpt.info("model.layers.0.self_attn.q_proj.weight")._unsafeUnwrap()).toMatchObject({ dtype: "BF16", shape: [64, 64] });
  ckpt.close();
  const registry = createRegistry();
  registry.use(llamaPlugin);
  expect(loadModel(join(dir, "merged"), registry).isOk()).toBe(true);
});

test("a bitsandbytes 4-bit checkpoint loads under method qlora", async () => {
  const registry = createRegistry();
  registry.use(llamaPlugin);
  const model = loadModel(STORIES, registry)._unsafeUnwrap().model;
  const bnb = join(dir, "bnb");
  writeBnb4bitModel(model, bnb, "nf4", true)._unsafeUnwrap();
  model.dispose();
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(STORIES, f), join(bnb, f));
  expect(JSON.parse(readFileSync(join(bnb, "config.json"), "utf8")).quantization_config.quant_method).toBe("bitsandbytes");
  const r = await lft(
    dir,
    "b.lft",
    `model llama "bnb" { template = default }\ndataset alpaca "${IDENTITY}"\nmethod qlora { rank = 4 }\ntrain sft for 2 steps { batch = 4, log_every = 1000 }\n`,
  );
  expect(r.err).not.toMatch(/warn|error|not used/i);
  expect(r.code).toBe(ExitCode.ok);
  expect(r.out).toMatch(/260,032 parameters .*nf4 on cpu/);
});
