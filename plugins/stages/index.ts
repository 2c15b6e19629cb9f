// The causal-LM stages: `pt` (pre-training on packed text: every token is a target) and `sft`
// (supervised fine-tuning: prompts masked by the template unless train_on_prompt). Both use the
// shifted next-token cross-entropy; they differ in the samples the data worker builds.
import { causalLmLoss, definePlugin } from "../../core/index.ts";

export default definePlugin({
  name: "lft-stages",
  setup(api) {
    api.register.stages({
      name: "pt",
      doc: "pre-training / continued pre-training: next-token loss on packed plain text",
      dataKind: "pt",
      options: {},
      loss: (model, batch) => causalLmLoss(model, batch),
    });
    api.register.stages({
      name: "sft",
      doc: "supervised fine-tuning: next-token loss on responses (prompts masked)",
      dataKind: "sft",
      options: {
        train_on_prompt: { type: "boolean", default: false, doc: "learn the prompt tokens too" },
        mask_history: { type: "boolean", default: false, doc: "learn only the last turn of each conversation" },
      },
      loss: (model, batch) => causalLmLoss(model, batch),
    });
  },
});
