// The Evaluate & predict and Export pages: a few fields build a short recipe (the model, its adapter,
// one eval / predict / export action), shown as text to read or edit, checked like lft check, and
// launched as an ordinary recipe run.

import { api, type Info } from "./api.ts";
import { showDiagnostics, showProblem } from "./diagnostics.ts";
import { debounce, fill, h, recipeString } from "./dom.ts";
import { launcher } from "./launcher.ts";

interface Field {
  readonly key: string;
  readonly label: string;
  readonly kind?: "text" | "number" | "boolean" | "select";
  readonly choices?: readonly string[];
  readonly value?: string;
  readonly placeholder?: string;
  readonly list?: string;
}

type Values = Record<string, string | boolean>;

/** `model "DIR" { adapter = "RUN" }`: the model block every action page starts with. */
export function modelBlock(v: Values): string {
  const options = [v.adapter ? `adapter = ${recipeString(String(v.adapter))}` : "", v.template ? `template = ${v.template}` : ""].filter(Boolean);
  return `model ${recipeString(String(v.model ?? ""))}${options.length ? ` { ${options.join(", ")} }` : ""}\n`;
}

/** `head { options }`, one per line; `false` entries (options left empty) are skipped. */
function block(head: string, options: readonly (string | boolean)[]): string {
  const set = options.filter((o): o is string => typeof o === "string" && o !== "");
  return set.length ? `${head} {\n${set.map((o) => `  ${o}`).join("\n")}\n}\n` : `${head}\n`;
}

function listItems(text: string): string {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(recipeString)
    .join(", ");
}

/** The eval or predict action: LF's do_eval / do_predict on a dataset. */
export function evaluateRecipe(v: Values): string {
  const source = `${v.format ? `${v.format} ` : ""}${recipeString(String(v.source ?? ""))}`;
  const common = [v.max_samples ? `max_samples = ${v.max_samples}` : false, v.metrics ? `metrics = [${listItems(String(v.metrics))}]` : false];
  if (v.action === "predict")
    return `${modelBlock(v)}\n${block(`predict ${source}`, [
      ...common,
      v.max_new_tokens ? `max_new_tokens = ${v.max_new_tokens}` : false,
      v.temperature !== "" && v.temperature !== undefined ? `temperature = ${v.temperature}` : false,
      v.output ? `output = ${recipeString(String(v.output))}` : false,
    ])}`;
  return `${modelBlock(v)}\n${block(`eval ${source}`, [...common, v.batch ? `batch = ${v.batch}` : false])}`;
}

/** The export action: the adapter as PEFT files, or merged into a full Hugging Face checkpoint. */
export function exportRecipe(v: Values): string {
  return `${modelBlock(v)}\n${block(`export ${recipeString(String(v.output ?? ""))}`, [v.merge ? "merge = true" : false, v.dtype ? `dtype = ${v.dtype}` : false])}`;
}

function actionPage(root: HTMLElement, info: Info, title: string, intro: string, fields: readonly Field[], build: (v: Values) => string): void {
  const controls = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const editor = h("textarea", { testid: "recipe-text", class: "recipe", spellcheck: "false", rows: 12 });
  const diagnostics = h("ul", { class: "diagnostics", testid: "diagnostics" });

  const check = debounce(async () => {
    const c = await api.check(editor.value);
    if (c.ok) showDiagnostics(diagnostics, c.data.diagnostics, editor);
    else showProblem(diagnostics, c.message);
  }, 250);
  const rebuild = () => {
    const values: Values = {};
    for (const [key, c] of controls) values[key] = c instanceof HTMLInputElement && c.type === "checkbox" ? c.checked : c.value.trim();
    editor.value = build(values);
    check();
  };

  const rows = fields.map((f) => {
    const testid = `field-${f.key}`;
    const control =
      f.kind === "select"
        ? h("select", { testid }, ...(f.choices ?? []).map((c) => h("option", { value: c, selected: c === f.value }, c || "(not set)")))
        : f.kind === "boolean"
          ? h("input", { testid, type: "checkbox", checked: f.value === "true" })
          : h("input", { testid, type: f.kind === "number" ? "number" : "text", value: f.value ?? "", placeholder: f.placeholder, list: f.list });
    control.addEventListener(f.kind === "select" || f.kind === "boolean" ? "change" : "input", rebuild);
    controls.set(f.key, control);
    return h("label", { class: "field" }, h("span", { class: "field-label" }, f.label), control);
  });
  editor.addEventListener("input", check);

  fill(
    root,
    h("datalist", { id: "action-models" }, ...info.models.map((m) => h("option", { value: m }))),
    h("datalist", { id: "action-dirs" }, ...info.datasetDirs.map((m) => h("option", { value: m }))),
    h(
      "div",
      { class: "train-grid" },
      h("div", { class: "train-form" }, h("h2", {}, title), h("p", { class: "muted" }, intro), h("fieldset", { class: "section" }, ...rows)),
      h(
        "div",
        { class: "train-recipe" },
        h("h2", {}, "Recipe"),
        editor,
        h("h3", {}, "Check"),
        diagnostics,
        launcher(() => editor.value, diagnostics, editor),
      ),
    ),
  );
  rebuild();
}

const modelFields = (info: Info): Field[] => [
  { key: "model", label: "Model folder", value: info.models[0] ?? "", list: "action-models" },
  { key: "adapter", label: "Adapter (a run's output)", placeholder: "runs/my-lora (optional)" },
  { key: "template", label: "Template", placeholder: "(the tokenizer's, or the adapter's)" },
];

export function evaluatePage(root: HTMLElement, info: Info): void {
  actionPage(
    root,
    info,
    "Evaluate & predict",
    "eval reports the loss (and metrics) on a dataset; predict generates an answer for every prompt and writes them to a JSONL file.",
    [
      ...modelFields(info),
      { key: "action", label: "Action", kind: "select", choices: ["eval", "predict"], value: "eval" },
      { key: "format", label: "Dataset format", placeholder: "alpaca (or empty: from the rows)" },
      { key: "source", label: "Dataset file, folder or name", placeholder: "data/identity.json", list: "action-dirs" },
      { key: "max_samples", label: "Max samples", kind: "number" },
      { key: "batch", label: "Batch (eval)", kind: "number" },
      { key: "metrics", label: "Metrics (comma-separated)", placeholder: "bleu-4, rouge-l, exact_match" },
      { key: "max_new_tokens", label: "Max new tokens (predict)", kind: "number" },
      { key: "temperature", label: "Temperature (predict)", kind: "number" },
      { key: "output", label: "Predictions file (predict)", placeholder: "(default: in the run directory)" },
    ],
    evaluateRecipe,
  );
}

export function exportPage(root: HTMLElement, info: Info): void {
  actionPage(
    root,
    info,
    "Export",
    "Writes the model as a Hugging Face folder: with merge, the adapter is merged into full weights; without, the adapter is written in PEFT's layout.",
    [
      ...modelFields(info),
      { key: "output", label: "Output folder", placeholder: "runs/my-lora/merged" },
      { key: "merge", label: "Merge the adapter into the weights", kind: "boolean", value: "true" },
      { key: "dtype", label: "Dtype", kind: "select", choices: ["", "f32", "bf16", "f16"], value: "" },
    ],
    exportRecipe,
  );
}
