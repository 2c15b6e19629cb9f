// Reward functions for RL stages (grpo, later ppo): each scores a prompt's group of completions.
// Third-party plugins register more with `api.register.rewards({ name, options, score })`.
import { definePlugin } from "../../core/index.ts";
import { exactMatchReward } from "./exact-match.ts";
import { lengthReward } from "./length.ts";
import { regexReward } from "./regex.ts";

export { exactMatchReward, extractAnswer } from "./exact-match.ts";
export { lengthReward, lengthScore } from "./length.ts";
export { compilePattern, regexReward } from "./regex.ts";

export default definePlugin({
  name: "lft-rewards",
  setup(api) {
    api.register.rewards(exactMatchReward);
    api.register.rewards(regexReward);
    api.register.rewards(lengthReward);
  },
});
