// Forward+backward tokens/s of shipped families' tiny presets (vocab 64, random weights, B 4 x T 64), one
// warm-up step then 5 timed: a quick check that a family stays on the fast path. Prints, writes nothing.
// Run: node_modules/.bin/bun bench/family-step.ts [family ...]   (default: llama mixtral deepseek_v2 deepseek_v3)
import { loadavg } from "node:os";
import { backward, createRegistry, familyByName, ops, randn, tensor, tidy } from "../lft.ts";
import { modelPlugins } from "../plugins/models/index.ts";

const registry = createRegistry();
for (const p of modelPlugins) registry.use(p)._unsafeUnwrap();
const [B, T, V] = [4, 64, 64];
const names = process.argv.slice(2).length ? process.argv.slice(2) : ["llama", "mixtral", "deepseek_v2", "deepseek_v3"];
for (const name of names) {
  const family = familyByName(registry, name)._unsafeUnwrap();
  const config = { ...family.tiny.config, model_type: family.modelTypes[0], vocab_size: V, bos_token_id: 1, eos_token_id: 2, pad_token_id: null };
  const model = family.build(family.fromConfig(config)._unsafeUnwrap());
  model.namedSlots().forEach(([path, slot], i) => {
    const mean = slot.shape.length >= 2 ? 0 : slot.init === "ones" ? 1 : 0;
    model.setParameter(path, randn(slot.shape, { seed: 1, offset: BigInt(i) << 32n, mean, std: 0.05 }))._unsafeUnwrap();
  });
  const ids = Array.from({ length: B * T }, (_, i) => (i * 7) % V);
  const step = () =>
    tidy(() => {
      const logits = ops.reshape(model.forward(tensor(ids, [B, T], { dtype: "i32" })), [B * T, V]);
      backward(
        ops.crossEntropy(
          logits,
          tensor(
            ids.map((x) => (x + 1) % V),
            [B * T],
            { dtype: "i32" },
          ),
        ),
      );
    });
  step();
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) step();
  const tokensPerSecond = Math.round((5 * B * T) / ((performance.now() - t0) / 1000));
  console.log(`${name}: ${tokensPerSecond} tokens/s forward+backward (load average ${loadavg()[0]!.toFixed(1)})`);
  model.dispose();
}
