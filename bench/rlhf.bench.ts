// Memory of model-sharing PPO against the same PPO with four separate model copies (policy, reference,
// reward, value), on one synthetic Llama shape (hidden 512, 8 layers, vocab 512: ~26M parameters, f32).
// Shared: one base; policy = base + LoRA, value = that LoRA + a value head, reward = an rm-style LoRA
// adapter set switched in + its head, reference = adapters off (the real `ppo` stage: prepare, batch
// source, loss, core's train loop). Separate: four loaded copies — policy + LoRA, a frozen reference,
// a reward model (base + the reward adapter + head), a value model (base + its own LoRA + head) — running
// the same rollout, GAE and clipped-loss arithmetic. Each mode runs in its own process (peak RSS is
// per process): 4 optimizer steps, batch 4, 16 new tokens.
// Run: bun bench/rlhf.bench.ts   (writes bench/results/rlhf.json)
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Batch,
  cpuBackend,
  createRegistry,
  IGNORE_INDEX,
  loadModel,
  loadTokenizer,
  noGrad,
  type PromptSample,
  randn,
  tensor,
  train,
  writeSafetensors,
} from "../lft.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { loadPeftAdapter, lora } from "../plugins/methods/index.ts";
import { llama } from "../plugins/models/llama.ts";
import { adamw } from "../plugins/optimizers/index.ts";
import {
  completionTargets,
  createValueHead,
  gae,
  type PpoBatch,
  policyLogProbs,
  ppoObjective,
  ppoStage,
  sampleCompletions,
  saveValueHead,
  sequenceBatch,
  sequenceScores,
  tokenLogProbs,
  tokenRewards,
  tokenValues,
} from "../plugins/stages/index.ts";

const STORIES = join(import.meta.dir, "../examples/models/stories260K");
const SHAPE = { hidden_size: 512, intermediate_size: 1408, num_hidden_layers: 8, num_attention_heads: 8, num_key_value_heads: 8, vocab_size: 512 };
const STEPS = 4;
const BATCH = 4;
const NEW_TOKENS = 16;
const LORA = { rank: 8, alpha: 16, targets: ["all"] };

const registry = createRegistry();
for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
const vm = (key: string) =>
  Number(
    /(\d+) kB/.exec(
      readFileSync("/proc/self/status", "utf8")
        .split("\n")
        .find((l) => l.startsWith(key)) ?? "0 kB",
    )![1],
  ) * 1024;

/** A model folder of the bench shape with random weights, the stories tokenizer, and an rm-style reward folder (LoRA + head). */
function makeFolders(root: string): { base: string; reward: string } {
  const base = join(root, "base");
  mkdirSync(base);
  const cfg = JSON.parse(readFileSync(join(STORIES, "config.json"), "utf8"));
  writeFileSync(
    join(base, "config.json"),
    JSON.stringify({ ...cfg, ...SHAPE, head_dim: SHAPE.hidden_size / SHAPE.num_attention_heads, tie_word_embeddings: false }),
  );
  for (const f of ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]) copyFileSync(join(STORIES, f), join(base, f));
  const spec = llama.fromConfig(JSON.parse(readFileSync(join(base, "config.json"), "utf8")), "bench")._unsafeUnwrap();
  const model = llama.build(spec);
  const entries = model
    .parameterShapes()
    .map((s, i) => ({
      name: s.name,
      data:
        s.shape.length === 1
          ? tensor(new Float32Array(s.shape[0]!).fill(1), [...s.shape])
          : randn([...s.shape], { seed: 1, offset: BigInt(i) << 32n, std: 0.02 }),
    }));
  writeSafetensors(join(base, "model.safetensors"), entries as never)._unsafeUnwrap();
  model.dispose();
  const reward = join(root, "reward");
  const m = loadModel(base, registry)._unsafeUnwrap().model;
  const method = lora.apply(m, LORA, llama, { seed: 2 })._unsafeUnwrap();
  method.saveTrainable(reward)._unsafeUnwrap();
  saveValueHead(createValueHead(SHAPE.hidden_size, 3, cpuBackend), reward)._unsafeUnwrap();
  m.dispose();
  return { base, reward };
}

function prompts(base: string): PromptSample[] {
  const tok = loadTokenizer(base)._unsafeUnwrap();
  return ["Once upon a time, there was a little", "One day, a little", "Tom and", "The sun was"].map((p) => {
    const ids = tok.encode(p);
    return { prompt: { inputIds: ids, labels: ids.map(() => IGNORE_INDEX) }, reference: { inputIds: [], labels: [] } };
  });
}

const stageOptions = { reward_model: "", max_new_tokens: NEW_TOKENS, ppo_buffer_size: 1, ppo_epochs: 2, init_kl_coef: 0.05 };

async function shared(base: string, reward: string): Promise<void> {
  const model = loadModel(base, registry)._unsafeUnwrap().model;
  const method = lora.apply(model, LORA, llama, { seed: 1 })._unsafeUnwrap();
  method.training = true;
  const options = { ...stageOptions, reward_model: reward };
  const prepared = ppoStage.prepare!(model, options, { method, seed: 3 })._unsafeUnwrap();
  const batches = ppoStage.batches!({
    model,
    method,
    samples: prompts(base),
    options,
    batchSize: BATCH,
    seed: 7,
    tokenizer: loadTokenizer(base)._unsafeUnwrap(),
    padId: 0,
    eosTokenIds: [2],
    registry,
    prepared,
  })._unsafeUnwrap();
  await run({ ...method.params, ...prepared.params }, batches, (b, rng) => {
    method.beginForward(rng);
    return prepared.loss(model, b, { step: 0, micro: 0, method });
  });
}

async function separate(base: string, reward: string): Promise<void> {
  const load = () => loadModel(base, registry)._unsafeUnwrap().model;
  const policy = load();
  const pm = lora.apply(policy, LORA, llama, { seed: 1 })._unsafeUnwrap();
  const reference = load();
  reference.freeze();
  const rewardModel = load();
  loadPeftAdapter(rewardModel, reward, llama)._unsafeUnwrap();
  const { loadValueHead } = await import("../plugins/stages/index.ts");
  const rhead = loadValueHead(reward, SHAPE.hidden_size, cpuBackend)._unsafeUnwrap();
  const valueModel = load();
  const vm_ = lora.apply(valueModel, LORA, llama, { seed: 4 })._unsafeUnwrap();
  const vhead = createValueHead(SHAPE.hidden_size, 3, cpuBackend);
  pm.training = true;
  vm_.training = true;
  const samples = prompts(base);
  let rollouts = 0;
  let buffer: PpoBatch | null = null;
  let served = 0;
  const batches = {
    next(): Batch | undefined {
      if (buffer === null || served >= 2) {
        const sampled = sampleCompletions(
          policy,
          pm,
          samples.map((p) => p.prompt.inputIds),
          1,
          { maxNewTokens: NEW_TOKENS, temperature: 1, topP: 1, topK: 0, seed: BigInt(++rollouts), eosTokenIds: [2], padId: 0 },
        )._unsafeUnwrap();
        const batch = sequenceBatch(sampled.prompts, sampled.completions, 0);
        const scores = sequenceScores(rewardModel, rhead, batch);
        const { mask } = completionTargets(batch);
        const oldLogps = policyLogProbs(policy, pm, batch);
        vm_.training = false;
        const oldValues = noGrad(() => Float32Array.from(tokenValues(valueModel, vhead, batch).toArray()));
        vm_.training = true;
        const refLogps = policyLogProbs(reference, undefined, batch);
        const { rewards } = tokenRewards(batch.batchSize, batch.seqLen, mask, oldLogps, refLogps, scores, 0.05);
        const { advantages, returns } = gae(batch.batchSize, batch.seqLen, mask, rewards, oldValues, 1, 0.95, false);
        buffer = { ...batch, mask, oldLogps, oldValues, advantages, returns, rolloutMetrics: {} };
        served = 0;
      }
      served++;
      return buffer;
    },
    state: () => null,
    restore: () => {
      throw new Error("no resume in the bench");
    },
  };
  await run(
    { ...pm.params, ...Object.fromEntries(Object.entries(vm_.params).map(([k, v]) => [`value.${k}`, v])), "v_head.w": vhead.weight, "v_head.b": vhead.bias },
    batches as never,
    (b, rng) => {
      pm.beginForward(rng);
      vm_.beginForward(rng);
      const pb = b as PpoBatch;
      const loss = ppoObjective(
        tokenLogProbs(policy, pb),
        tokenValues(valueModel, vhead, pb),
        { mask: pb.mask, oldLogps: pb.oldLogps, oldValues: pb.oldValues, advantages: pb.advantages, returns: pb.returns },
        { cliprange: 0.2, cliprangeValue: 0.2, vfCoef: 0.1 },
      );
      return { loss, tokens: pb.mask.reduce((a, x) => a + x, 0) };
    },
  );
}

async function run(
  params: Record<string, import("../lft.ts").Tensor>,
  batches: never | import("../lft.ts").ResumableBatches<Batch>,
  lossFn: (b: Batch, rng: never) => { loss: import("../lft.ts").Tensor; tokens: number },
) {
  const dir = mkdtempSync(join(tmpdir(), "lft-rlhf-ckpt-"));
  const t0 = performance.now();
  (
    await train<Batch>({
      params,
      optimizer: adamw({ lr: 1e-3 }),
      steps: STEPS,
      batches,
      lossFn: (b, ctx) => lossFn(b, ctx.rng as never),
      seed: 7,
      checkpoint: { dir, every: 0 },
      progress: false,
    })
  )._unsafeUnwrap();
  rmSync(dir, { recursive: true, force: true });
  const out = { wallS: (performance.now() - t0) / 1000, peakRssBytes: vm("VmHWM"), allocatorPeakBytes: cpuBackend.allocator.stats().peakBytes };
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
}

const mode = process.argv[2];
if (mode === "shared" || mode === "separate") {
  const [base, reward] = [process.argv[3]!, process.argv[4]!];
  await (mode === "shared" ? shared(base, reward) : separate(base, reward));
} else {
  const root = mkdtempSync(join(tmpdir(), "lft-rlhf-"));
  try {
    const { base, reward } = makeFolders(root);
    const params = loadModel(base, registry)
      ._unsafeUnwrap()
      .model.parameters()
      .reduce((n, t) => n + t.numel, 0);
    const results: Record<string, unknown> = {};
    for (const m of ["shared", "separate"]) {
      const r = spawnSync(process.execPath, [import.meta.path, m, base, reward], { encoding: "utf8", maxBuffer: 1 << 26 });
      const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
      if (!line) throw new Error(`${m} failed: ${r.stderr.slice(-2000)}`);
      results[m] = JSON.parse(line.slice(7));
      console.log(m, results[m]);
    }
    const s = results.shared as { peakRssBytes: number; allocatorPeakBytes: number };
    const p = results.separate as { peakRssBytes: number; allocatorPeakBytes: number };
    const report = {
      bench: "rlhf",
      shape: { ...SHAPE, parameters: params, dtype: "f32" },
      run: { steps: STEPS, batch: BATCH, maxNewTokens: NEW_TOKENS, lora: LORA, ppoEpochs: 2 },
      shared: results.shared,
      separate: results.separate,
      ratio: { allocatorPeak: +(p.allocatorPeakBytes / s.allocatorPeakBytes).toFixed(3), peakRss: +(p.peakRssBytes / s.peakRssBytes).toFixed(3) },
      command: "bun bench/rlhf.bench.ts",
      machine: "2 shared CPU cores (CPU backend)",
    };
    writeFileSync(join(import.meta.dir, "results/rlhf.json"), `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report.ratio));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
