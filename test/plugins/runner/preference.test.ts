// The preference stages end to end through `lft`, on the shipped stories260K and LLaMA-Factory's demo
// data: dpo raises the chosen−rejected margin and the accuracy over 50 steps, kto's loss falls on
// kto_en_demo, LLaMA-Factory's own dpo/kto configs imported run a few steps, and bad input stops
// before anything is written.
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "../../../dsl/cli.ts";
import { captureIO, lft, REPO, STORIES, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("preference");
afterAll(cleanup);
const LF_DATA = join(REPO, "test/fixtures/llamafactory-data");
const LF_CONFIGS = join(REPO, "test/fixtures/llamafactory-configs");

interface History {
  lossHistory: { step: number; loss: number; metrics?: Record<string, number> }[];
}
const history = (out: string, step: number): History => JSON.parse(readFileSync(join(dir, out, `checkpoint-${step}`, "trainer_state.json"), "utf8")) as History;
const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("dpo", () => {
  test("50 steps on dpo_en_demo raise the margin and the accuracy", async () => {
    const r = await lft(
      dir,
      "dpo.lft",
      `model llama "${STORIES}" { template = default }
dataset "dpo_en_demo" { dir = "${LF_DATA}", max_samples = 16 }
method lora { rank = 8, alpha = 16, targets = [all] }
train dpo for 50 steps { beta = 0.1, lr = 3e-3, batch = 4, cutoff = 48, log_every = 10, output = "runs/dpo" }
`,
    );
    expect(r.code).toBe(0);
    expect(r.err).toMatch(
      /step 50\/50 {2}loss [\d.]+ {2}rewards\/chosen -?[\d.]+ {2}rewards\/rejected -?[\d.]+ {2}rewards\/accuracies [\d.]+ {2}rewards\/margins/,
    );
    const h = history("runs/dpo", 50).lossHistory;
    expect(h).toHaveLength(50);
    const m = (k: string, from: number, to: number) => meanOf(h.slice(from, to).map((s) => s.metrics![k]!));
    // Step 1: the adapters start at zero, so the policy is the reference (margin 0, loss ln 2).
    expect(h[0]!.loss).toBeCloseTo(Math.log(2), 4);
    expect(h[0]!.metrics!["rewards/margins"]).toBe(0);
    expect(m("rewards/margins", 40, 50)).toBeGreaterThan(m("rewards/margins", 0, 5) + 1);
    expect(m("rewards/accuracies", 40, 50)).toBeGreaterThanOrEqual(0.9);
    expect(m("rewards/accuracies", 40, 50)).toBeGreaterThan(m("rewards/accuracies", 0, 5));
    expect(meanOf(h.slice(40).map((s) => s.loss))).toBeLessThan(0.3);
  }, 60_000);

  test("bad input: an sft-format dataset names its file; a full-parameter reference is refused by check at the stage", async () => {
    const sft = await lft(
      dir,
      "dpo-sft.lft",
      `model llama "${STORIES}" { template = default }
dataset "alpaca_en_demo" { dir = "${LF_DATA}" }
method lora { rank = 8 }
train dpo for 2 steps { output = "runs/dpo-sft" }
`,
    );
    expect(sft.code).not.toBe(0);
    expect(sft.err).toContain(
      `dataset "alpaca_en_demo" (file ${join(LF_DATA, "alpaca_en_demo.json")}, format alpaca) gives sft/text examples; this stage needs pairwise (set "ranking": true) examples`,
    );
    expect(existsSync(join(dir, "runs/dpo-sft"))).toBe(false);

    const recipe = (loss: string) => `model llama "${STORIES}" { template = default }
dataset "dpo_en_demo" { dir = "${LF_DATA}", max_samples = 4 }
method full
train dpo for 1 steps { loss = ${loss}, cutoff = 32, output = "runs/dpo-full-${loss.replace(/[^a-z]/g, "").slice(0, 8)}" }
`;
    writeFileSync(join(dir, "full.lft"), recipe("sigmoid"));
    const io = captureIO(dir);
    expect(await main(["check", "full.lft"], io)).not.toBe(0);
    expect(io.out() + io.err()).toContain(
      "full.lft:4:7: train dpo: the reference model is the base with the adapters switched off, but method full trains the base weights themselves",
    );
    // An explicit reference model folder makes full fine-tuning with a reference loss check and run.
    writeFileSync(join(dir, "full-ref.lft"), recipe(`sigmoid, ref_model = "${STORIES}"`));
    const withRef = captureIO(dir);
    expect(await main(["full-ref.lft"], withRef)).toBe(0);
    expect(withRef.err()).toMatch(/step 1\/1 {2}loss 0\.6931 {2}rewards\/chosen 0\.0000/);
    // SimPO needs no reference: full fine-tuning runs.
    const simpo = await lft(dir, "full-simpo.lft", recipe("simpo"));
    expect(simpo.code).toBe(0);
    expect(existsSync(join(dir, "runs/dpo-full-simpo/model.safetensors"))).toBe(true);
  }, 60_000);
});

describe("kto", () => {
  test("kto_en_demo: the loss falls", async () => {
    const r = await lft(
      dir,
      "kto.lft",
      `model llama "${STORIES}" { template = default }
dataset "kto_en_demo" { dir = "${LF_DATA}", max_samples = 16 }
method lora { rank = 8, alpha = 16, targets = [all] }
train kto for 30 steps { beta = 0.1, lr = 3e-3, batch = 4, cutoff = 48, log_every = 10, output = "runs/kto" }
`,
    );
    expect(r.code).toBe(0);
    const h = history("runs/kto", 30).lossHistory;
    // Policy = reference at the start: every sample's loss is 1 − σ(0) = 0.5.
    expect(h[0]!.loss).toBeCloseTo(0.5, 4);
    expect(meanOf(h.slice(20).map((s) => s.loss))).toBeLessThan(0.5 * h[0]!.loss);
    expect(h.every((s) => s.metrics!.kl! >= 0)).toBe(true);
  }, 60_000);

  test("bad input: a kto dataset without its label column names the file and writes nothing", async () => {
    const data = join(dir, "bad-data");
    mkdirSync(data, { recursive: true });
    const rows = (JSON.parse(readFileSync(join(LF_DATA, "kto_en_demo.json"), "utf8")) as Record<string, unknown>[]).slice(0, 6);
    writeFileSync(join(data, "kto.json"), JSON.stringify(rows.map(({ label: _, ...rest }) => rest)));
    const info = JSON.parse(readFileSync(join(LF_DATA, "dataset_info.json"), "utf8")) as Record<string, Record<string, unknown>>;
    writeFileSync(join(data, "dataset_info.json"), JSON.stringify({ kto_nolabel: { ...info.kto_en_demo, file_name: "kto.json" } }));
    const r = await lft(
      dir,
      "kto-bad.lft",
      `model llama "${STORIES}" { template = default }
dataset "kto_nolabel" { dir = "bad-data" }
method lora { rank = 8 }
train kto for 2 steps { output = "runs/kto-bad" }
`,
    );
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('kto.json row 1: missing column "label"');
    expect(existsSync(join(dir, "runs/kto-bad"))).toBe(false);
  }, 60_000);
});

describe("LLaMA-Factory's dpo and kto configs, imported, run on the tiny model", () => {
  for (const [file, stage] of [
    ["train_lora_qwen3_lora_dpo.yaml", "dpo"],
    ["train_lora_qwen3_lora_kto.yaml", "kto"],
  ] as const) {
    test(`${file}: train ${stage} for 2 steps`, async () => {
      const yaml = readFileSync(join(LF_CONFIGS, file), "utf8")
        .replace(/^model_name_or_path: .*$/m, `model_name_or_path: ${STORIES}`)
        .replace(/^template: .*$/m, "template: default")
        .replace(/^cutoff_len: .*$/m, `cutoff_len: 32\nmax_steps: 2\ndataset_dir: ${LF_DATA}`)
        .replace(/^max_samples: .*$/m, "max_samples: 8")
        .replace(/^gradient_accumulation_steps: .*$/m, "gradient_accumulation_steps: 2")
        .replace(/^output_dir: .*$/m, `output_dir: runs/imported-${stage}`);
      writeFileSync(join(dir, `${stage}.yaml`), yaml);
      const imported = captureIO(dir);
      expect(await main(["import", `${stage}.yaml`], imported)).toBe(0);
      expect(imported.out()).toContain(`train ${stage} for 2 steps {`);
      const r = await lft(dir, `imported-${stage}.lft`, imported.out());
      expect(r.code).toBe(0);
      expect(r.out).toContain(`train ${stage}: lora adapter written to runs/imported-${stage}`);
      expect(history(`runs/imported-${stage}`, 2).lossHistory).toHaveLength(2);
    }, 60_000);
  }
});

test("examples/dpo.lft runs as written: margins and accuracy rise, predictions are written", async () => {
  const ex = join(dir, "example");
  mkdirSync(join(ex, "models"), { recursive: true });
  symlinkSync(STORIES, join(ex, "models/stories260K"));
  cpSync(join(REPO, "examples/data"), join(ex, "data"), { recursive: true });
  const io = captureIO(ex);
  writeFileSync(join(ex, "dpo.lft"), readFileSync(join(REPO, "examples/dpo.lft"), "utf8"));
  expect(await main(["dpo.lft"], io)).toBe(0);
  const h = (JSON.parse(readFileSync(join(ex, "runs/stories-lora-dpo/checkpoint-32/trainer_state.json"), "utf8")) as History).lossHistory;
  const last = h.slice(-8);
  expect(meanOf(last.map((s) => s.metrics!["rewards/margins"]!))).toBeGreaterThan(1);
  expect(meanOf(last.map((s) => s.metrics!["rewards/accuracies"]!))).toBeGreaterThanOrEqual(0.9);
  expect(readFileSync(join(ex, "runs/stories-lora-dpo/predictions.jsonl"), "utf8").trim().split("\n")).toHaveLength(4);
}, 60_000);
