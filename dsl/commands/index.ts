// lft's own plugin: the verbs the language brings (board, check, fmt, import, plan, plugins, run, help) and the
// runRecipe hook that runner plugins register on. Other plugins add verbs the same way.

import { definePlugin } from "../../core/index.ts";
import { boardCommand } from "./board";
import { checkCommand } from "./check";
import { fmtCommand } from "./fmt";
import { helpCommand } from "./help";
import { importCommand } from "./import";
import { planCommand } from "./plan";
import { pluginsCommand } from "./plugins";
import { runCommand } from "./run";

export const lftPlugin = definePlugin({
  name: "lft",
  version: "0.1.0",
  setup(api) {
    api.declareHook("runRecipe", "first");
    for (const command of [boardCommand, checkCommand, fmtCommand, helpCommand, importCommand, planCommand, pluginsCommand, runCommand])
      api.register.commands(command);
  },
});
