// Data parallelism: collectives engines (registry collection `collectives`) and how a run picks one.
// Third-party engines register with `api.register.collectives({ name, launchedBy, available, open })`.
import { definePlugin } from "../../core/index.ts";
import { singleEngine } from "./single.ts";

export { chooseEngine, openCollectives } from "./select.ts";
export { singleEngine } from "./single.ts";

export default definePlugin({
  name: "lft-dist",
  setup(api) {
    api.register.collectives(singleEngine);
  },
});
