// A page made of a generated form and the recipe it writes (Train, Evaluate & predict, Export): the
// recipe text follows the form live, a pasted or edited recipe fills the form back ("Recipe → form"),
// lft check's diagnostics show inline, a dataset preview on demand, and launch / stop.

import { api, type FormValues, type Info } from "./api.ts";
import { showDiagnostics, showProblem } from "./diagnostics.ts";
import { debounce, fill, h } from "./dom.ts";
import { type FormOptions, generateForm } from "./form.ts";
import { launcher } from "./launcher.ts";

export interface FormPageOptions extends FormOptions {
  readonly title: string;
  readonly intro: string;
  /** Values the page starts with (Evaluate switches its eval block on). */
  readonly initial?: FormValues;
  /** Offer the templated-samples preview (pages that train on a dataset). */
  readonly preview?: boolean;
}

export async function formPage(root: HTMLElement, info: Info, options: FormPageOptions): Promise<void> {
  const reply = await api.form();
  if (!reply.ok) {
    fill(root, h("p", { class: "error", testid: "page-error" }, `The form could not be loaded: ${reply.message}`));
    return;
  }
  const editor = h("textarea", { testid: "recipe-text", class: "recipe", spellcheck: "false", rows: 24 });
  const diagnostics = h("ul", { class: "diagnostics", testid: "diagnostics" });
  const extraNote = h("p", { class: "muted", testid: "recipe-extra", hidden: true });
  const planLine = h("p", { class: "muted", testid: "plan-line" });
  // The plan's one line (peak memory, step time), as `lft check` prints it; empty when it cannot be planned.
  async function refreshPlan(): Promise<void> {
    const p = await api.plan(editor.value);
    planLine.textContent = p.ok ? p.data.plan.line : "";
  }
  const preview = h("div", { class: "preview", testid: "preview" });
  // Recipe parts the form cannot show (let, use, a second dataset): kept verbatim by the server.
  let extra = "";

  const form = generateForm(reply.data.sections, () => formChanged(), {
    ...options,
    suggestions: { "model.source": "models", "model.adapter": "adapters", ...options.suggestions },
  });

  const formChanged = debounce(async () => {
    const r = await api.formToRecipe(form.values(), extra);
    if (!r.ok) return showProblem(diagnostics, r.message);
    editor.value = r.data.recipe;
    showDiagnostics(diagnostics, r.data.diagnostics, editor);
    await refreshPlan();
  }, 250);

  async function recipeToForm(): Promise<void> {
    const r = await api.recipeToForm(editor.value);
    if (!r.ok) return showProblem(diagnostics, r.message);
    form.setValues(r.data.values);
    extra = r.data.extra ?? "";
    const kept = extra
      .split("\n")
      .filter((l) => l.trim() !== "" && !/^#\s*@board\b/.test(l.trim()))
      .join("\n");
    extraNote.hidden = kept === "";
    extraNote.textContent = `Kept as written (the form does not show these): ${kept}`;
    showDiagnostics(diagnostics, r.data.diagnostics, editor);
  }

  const recipeEdited = debounce(async () => {
    const c = await api.check(editor.value);
    if (c.ok) showDiagnostics(diagnostics, c.data.diagnostics, editor);
    else showProblem(diagnostics, c.message);
    await refreshPlan();
  }, 300);
  editor.addEventListener("input", recipeEdited);
  editor.addEventListener("paste", () => setTimeout(() => void recipeToForm(), 0));

  async function showPreview(): Promise<void> {
    fill(preview, h("p", { class: "muted" }, "templating samples…"));
    const r = await api.preview(editor.value, 3);
    if (!r.ok || r.data.error || !r.data.samples) {
      fill(preview, h("p", { class: "error", testid: "preview-error" }, r.ok ? (r.data.error ?? "no samples") : r.message));
      return;
    }
    fill(
      preview,
      ...r.data.samples.map((s, i) =>
        h(
          "details",
          { class: "sample", testid: "preview-sample", open: i === 0 },
          h("summary", {}, `sample ${i + 1} · ${s.tokens} tokens`),
          h("div", { class: "prompt" }, h("b", {}, "prompt"), h("pre", {}, s.prompt)),
          h("div", { class: "response" }, h("b", {}, "response"), h("pre", {}, s.response)),
        ),
      ),
    );
  }

  fill(
    root,
    h("datalist", { id: "models" }, ...info.models.map((m) => h("option", { value: m }))),
    h("datalist", { id: "adapters" }, ...(info.adapters ?? []).map((m) => h("option", { value: m }))),
    h("datalist", { id: "paths" }, ...[...info.models, ...info.datasetDirs].map((m) => h("option", { value: m }))),
    h(
      "div",
      { class: "train-grid" },
      h("div", { class: "train-form" }, h("h2", {}, options.title), h("p", { class: "muted" }, options.intro), form.element),
      h(
        "div",
        { class: "train-recipe" },
        h("h2", {}, "Recipe"),
        editor,
        extraNote,
        h(
          "div",
          { class: "buttons" },
          h("button", { testid: "recipe-to-form", onclick: () => void recipeToForm() }, "Recipe → form"),
          options.preview && h("button", { testid: "preview-button", onclick: () => void showPreview() }, "Preview data"),
        ),
        h("h3", {}, "Check"),
        planLine,
        diagnostics,
        preview,
        launcher(() => editor.value, diagnostics, editor),
      ),
    ),
  );
  if (options.initial) form.setValues(options.initial);
  formChanged();
}
