// `optimizer = galore` and `optimizer = apollo` from a recipe: stories260K continued on a small text
// for 25 steps, the held-out loss falls (also in layer-wise mode); and the mistakes `lft check` must
// catch (a bad rank or proj_type, GaLore with LoRA, layer-wise with accumulation or clipping), each
// at its line, no stack trace.
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "../../../dsl/cli.ts";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { captureIO, lft, STORIES, scratch } from "../runner/helpers.ts";

const { dir, cleanup } = scratch("lowrank");
afterAll(cleanup);

const colours = ["red", "blue", "green", "yellow", "pink"];
const things = ["ball", "kite", "boat", "hat", "cup", "box", "car", "book"];
const corpus = Array.from(
  { length: 40 },
  (_, i) => `Tom has a ${colours[i % 5]} ${things[i % 8]}. He gives the ${colours[i % 5]} ${things[i % 8]} to Sue, and Sue says thank you.`,
);
writeFileSync(join(dir, "corpus.txt"), `${corpus.join("\n")}\n`);

const recipe = (train: string, method = "full") =>
  `model llama "${STORIES}" { dtype = f32 }
dataset text "corpus.txt"
method ${method}
train pt for 25 steps { lr = 2e-3, batch = 4, cutoff = 64, pack = true, holdout = 0.2, warmup = 2 steps, log_every = 1000, ${train} }
`;

async function check(name: string, text: string) {
  writeFileSync(join(dir, name), text);
  const io = captureIO(dir);
  const code = await main(["check", name], io);
  return { code, err: io.err() };
}

describe("training with a low-rank optimizer", () => {
  for (const [name, train] of [
    ["galore", "optimizer = galore, rank = 8, update_interval = 10, scale = 1"],
    ["apollo", "optimizer = apollo, rank = 8, update_interval = 10, scale = 1"],
    ["galore-layerwise", "optimizer = galore, rank = 8, update_interval = 10, scale = 1, layerwise = true, clip = 0, checkpointing = true"],
  ] as const) {
    test(`${name}: the held-out loss falls`, async () => {
      const run = await lft(dir, `${name}.lft`, recipe(`${train}, output = "runs/${name}"`));
      expect(run.err).not.toMatch(/\n\s+at /);
      expect(run.code).toBe(ExitCode.ok);
      const trained = /train pt: 25 steps .* loss ([\d.]+) → ([\d.]+) .* held-out loss ([\d.]+)/.exec(run.out);
      expect(trained).not.toBeNull();
      const [first, last, heldOut] = trained!.slice(1).map(Number);
      expect(last!).toBeLessThan(first! * 0.8);
      expect(heldOut!).toBeLessThan(first! * 0.8);
    }, 120_000);
  }
});

describe("lft check", () => {
  test("a valid galore and apollo recipe checks clean", async () => {
    expect((await check("ok1.lft", recipe("optimizer = galore, proj_type = reverse_std"))).code).toBe(0);
    expect((await check("ok2.lft", recipe('optimizer = apollo, rank = 1, scale_type = tensor, proj = svd, target = "q_proj,v_proj"'))).code).toBe(0);
  });

  test("rank 0 and an unknown proj_type: errors at their place", async () => {
    const r = await check("bad.lft", recipe('optimizer = galore, rank = 0, proj_type = "diagonal"'));
    expect(r.code).toBe(ExitCode.recipeError);
    expect(r.err).toMatch(/bad\.lft:4:\d+: train "pt": option "rank" must be >= 1, found 0/);
    expect(r.err).toMatch(/bad\.lft:4:\d+: train "pt": option "proj_type" must be one of/);
    expect(r.err).not.toMatch(/\n\s+at /);
    const apollo = await check("bad2.lft", recipe('optimizer = apollo, scale_type = "row"'));
    expect(apollo.err).toMatch(/bad2\.lft:4:\d+: train "pt": option "scale_type" must be one of/);
  });

  test("GaLore or APOLLO with method lora: an error at the optimizer", async () => {
    const r = await check("lora.lft", recipe("optimizer = galore", "lora"));
    expect(r.code).toBe(ExitCode.recipeError);
    const col = recipe("optimizer = galore").split("\n")[3]!.indexOf("optimizer") + 1;
    expect(r.err).toContain(`lora.lft:4:${col}: optimizer "galore" projects the gradients of full weights and cannot train with method lora`);
    expect((await check("lora2.lft", recipe("optimizer = apollo", "lora"))).err).toContain('optimizer "apollo" projects the gradients of full weights');
  });

  test("layer-wise with accumulation or clipping: errors at those options", async () => {
    const text = recipe("optimizer = galore, layerwise = true, accumulate = 2, clip = 1");
    const r = await check("lw.lft", text);
    expect(r.code).toBe(ExitCode.recipeError);
    const line = text.split("\n")[3]!;
    expect(r.err).toContain(`lw.lft:4:${line.indexOf("accumulate") + 1}: layer-wise galore steps each weight during backward, so it cannot accumulate`);
    expect(r.err).toContain(`lw.lft:4:${line.indexOf("clip") + 1}: layer-wise galore steps each weight before the global gradient norm is known`);
    // clip left at its default (1): the error points at layerwise.
    const d = recipe("optimizer = apollo, layerwise = true");
    expect((await check("lw2.lft", d)).err).toContain(`lw2.lft:4:${d.split("\n")[3]!.indexOf("layerwise") + 1}: layer-wise apollo`);
  });
});
