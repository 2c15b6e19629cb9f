// The fine-tuning methods that ship with lft: full, freeze and lora.
import { definePlugin } from "../../core/index.ts";
import { freeze } from "./freeze.ts";
import { full } from "./full.ts";
import { lora } from "./lora.ts";

export { full, freeze, lora };

export default definePlugin({
  name: "lft-methods",
  setup(api) {
    api.register.methods(full);
    api.register.methods(freeze);
    api.register.methods(lora);
  },
});
