// The `hf` template: the model's own Jinja chat template from tokenizer_config.json, rendered with
// @huggingface/jinja and cut into prompt/response pairs for masking.
import { createHfEncoder, definePlugin } from "../../../core/index.ts";

export default definePlugin({
  name: "lft-template-hf",
  setup(api) {
    api.register.templates({
      name: "hf",
      doc: "the model's own chat template (tokenizer_config.json chat_template)",
      options: {
        enable_thinking: { type: "boolean", doc: "passed to the chat template as enable_thinking (Qwen3); unset passes nothing" },
      },
      stopWords: [],
      supportsSystem: true,
      create(tokenizer, options) {
        const extra = options["enable_thinking"] === undefined ? {} : { enable_thinking: options["enable_thinking"] };
        return createHfEncoder(tokenizer, extra);
      },
    });
  },
});
