// The methods on the glm4, cohere and starcoder2 families: LoRA on every adapter target leaves the logits
// unchanged at initialisation (B = 0) and every adapter gets a gradient; QLoRA quantises the targets and
// trains; freeze trains the last layer only. A family whose linear names the methods miss fails here.
import { expect, test } from "bun:test";
import { randomTokenBatch } from "../../../bench/lib/token-batch.ts";
import { Philox } from "../../../core/random/philox.ts";
import { backward, causalLmLoss, createRegistry, familyByName, methodEntry, tidy } from "../../../lft.ts";
import { builtinPlugins } from "../../../plugins/index.ts";
import { logitsOf, ROWS } from "./family-checks.ts";

const registry = createRegistry();
for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
const batch = randomTokenBatch({ batch: 2, seq: 12, vocab: 64 }, new Philox(3n));

function tinyModel(name: string) {
  const family = familyByName(registry, name)._unsafeUnwrap();
  const config = { ...family.tiny.config, vocab_size: 64, bos_token_id: 1, eos_token_id: 2, pad_token_id: null };
  const model = family.build(family.fromConfig(config)._unsafeUnwrap());
  model.initParameters({ seed: 1, std: 0.1 });
  return { family, model };
}

for (const name of ["glm4", "cohere", "starcoder2"]) {
  test(`${name}: lora on ${familyByName(registry, name)._unsafeUnwrap().adapterTargets.join("/")}, qlora and freeze train`, () => {
    for (const method of ["lora", "qlora", "freeze"]) {
      const { family, model } = tinyModel(name);
      const before = logitsOf(model, ROWS);
      const opts = method === "freeze" ? { layers: 1 } : { rank: 4, alpha: 8, targets: family.adapterTargets };
      const applied = methodEntry(registry.get("methods", method)._unsafeUnwrap())._unsafeUnwrap().apply(model, opts, family, { seed: 1 })._unsafeUnwrap();
      if (method === "lora") {
        // B starts at zero: the adapted model computes the base model's function.
        const after = logitsOf(model, ROWS);
        for (let i = 0; i < before.length; i++) expect(Math.abs(after[i]! - before[i]!)).toBeLessThan(1e-6);
        // One A and one B per target linear per layer.
        expect(Object.keys(applied.params).length).toBe(2 * family.adapterTargets.length * model.spec.numLayers);
      }
      tidy(() => {
        applied.beginForward();
        backward(causalLmLoss(model, batch).loss);
      });
      const params = Object.entries(applied.params);
      expect(params.length).toBeGreaterThan(0);
      // Every trainable tensor the method declares is reached by the backward pass.
      for (const [n, p] of params) expect({ n, grad: p.grad !== null }).toEqual({ n, grad: true });
      if (method === "freeze") expect(params.every(([n]) => !n.startsWith("model.layers.0."))).toBe(true);
      model.dispose();
    }
  });
}
