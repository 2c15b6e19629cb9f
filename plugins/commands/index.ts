// Verbs for models, data and runs (the language's own verbs live in dsl/commands).
import { definePlugin } from "../../core/index.ts";
import { chatCommand } from "./chat.ts";
import { convertCommand } from "./convert.ts";
import { dataCommand } from "./data.ts";
import { exportCommand } from "./export.ts";
import { makeTinyCommand } from "./make-tiny.ts";
import { modelsCommand } from "./models.ts";
import { runsCommand } from "./runs.ts";

export default definePlugin({
  name: "lft-commands",
  setup(api) {
    for (const c of [chatCommand, convertCommand, makeTinyCommand, modelsCommand, runsCommand, dataCommand, exportCommand]) api.register.commands(c);
  },
});
