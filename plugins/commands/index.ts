// Verbs for models, data and runs (the language's own verbs live in dsl/commands), and the public
// entry of what they are built on: data preview, tiny checkpoints, run reports and terminal plots.
import { definePlugin } from "../../core/index.ts";
import { chatCommand } from "./chat.ts";
import { convertCommand } from "./convert.ts";
import { dataCommand } from "./data.ts";
import { exportCommand } from "./export.ts";
import { makeTinyCommand } from "./make-tiny.ts";
import { modelsCommand } from "./models.ts";
import { runsCommand } from "./runs.ts";
import { scoreCommand } from "./score.ts";

export { type PreviewOptions, previewDataset } from "./data-preview.ts";
export { BrailleCanvas, linePlot, overlayLegend, overlayPlot } from "./plot.ts";
export { formatRunCompare, formatRunList, formatRunShow, runsJson } from "./run-report.ts";
export { type MadeTiny, type MakeTinyOptions, makeTiny, TOKENIZER_FIXTURES } from "./tiny-model.ts";

export default definePlugin({
  name: "lft-commands",
  setup(api) {
    for (const c of [chatCommand, convertCommand, makeTinyCommand, modelsCommand, runsCommand, dataCommand, exportCommand, scoreCommand])
      api.register.commands(c);
  },
});
