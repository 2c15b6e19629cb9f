// The Train page: the generated form on the left, the recipe it makes on the right (live, both ways:
// paste a recipe and the form follows), lft check's diagnostics inline, a dataset preview, launch and stop.

import { api, type Info } from "./api.ts";
import { showDiagnostics, showProblem } from "./diagnostics.ts";
import { debounce, fill, h } from "./dom.ts";
import { generateForm } from "./form.ts";
import { launcher } from "./launcher.ts";

export async function trainPage(root: HTMLElement, info: Info): Promise<void> {
  const reply = await api.form();
  if (!reply.ok) {
    fill(root, h("p", { class: "error", testid: "page-error" }, `The form could not be loaded: ${reply.message}`));
    return;
  }
  const editor = h("textarea", { testid: "recipe-text", class: "recipe", spellcheck: "false", rows: 24 });
  const diagnostics = h("ul", { class: "diagnostics", testid: "diagnostics" });
  const extraNote = h("p", { class: "muted", testid: "recipe-extra", hidden: true });
  const preview = h("div", { class: "preview", testid: "preview" });
  let extra = "";

  const form = generateForm(reply.data.sections, () => formChanged(), { "model.source": "models", "model.path": "models" });

  // form → recipe: the server writes the recipe (canonical form) and checks it.
  const formChanged = debounce(async () => {
    const r = await api.formToRecipe(form.values());
    if (!r.ok) return showProblem(diagnostics, r.message);
    editor.value = extra ? `${r.data.recipe.trimEnd()}\n\n${extra.trim()}\n` : r.data.recipe;
    if (!extra) return showDiagnostics(diagnostics, r.data.diagnostics, editor);
    const c = await api.check(editor.value);
    if (c.ok) showDiagnostics(diagnostics, c.data.diagnostics, editor);
    else showProblem(diagnostics, c.message);
  }, 250);

  // recipe → form: what the form cannot show stays as text (extra) and is kept in the recipe.
  async function recipeToForm(): Promise<void> {
    const r = await api.recipeToForm(editor.value);
    if (!r.ok) return showProblem(diagnostics, r.message);
    form.setValues(r.data.values);
    extra = r.data.extra ?? "";
    extraNote.hidden = extra.trim() === "";
    extraNote.textContent = `Kept as written (the form does not show these): ${extra.trim()}`;
    showDiagnostics(diagnostics, r.data.diagnostics, editor);
  }

  const recipeEdited = debounce(async () => {
    const c = await api.check(editor.value);
    if (c.ok) showDiagnostics(diagnostics, c.data.diagnostics, editor);
    else showProblem(diagnostics, c.message);
  }, 300);
  editor.addEventListener("input", recipeEdited);
  editor.addEventListener("paste", () => setTimeout(() => void recipeToForm(), 0));

  async function showPreview(): Promise<void> {
    fill(preview, h("p", { class: "muted" }, "templating samples…"));
    const r = await api.preview(editor.value, 3);
    if (!r.ok || r.data.error || !r.data.samples) {
      fill(preview, h("p", { class: "error" }, r.ok ? (r.data.error ?? "no samples") : r.message));
      return;
    }
    fill(
      preview,
      ...r.data.samples.map((s, i) =>
        h(
          "details",
          { class: "sample", testid: "preview-sample", open: i === 0 },
          h("summary", {}, `sample ${i + 1} · ${s.tokens} tokens`),
          h("div", { class: "prompt" }, h("b", {}, "prompt "), h("pre", {}, s.prompt)),
          h("div", { class: "response" }, h("b", {}, "response "), h("pre", {}, s.response)),
        ),
      ),
    );
  }

  fill(
    root,
    h("datalist", { id: "models" }, ...info.models.map((m) => h("option", { value: m }))),
    h("datalist", { id: "paths" }, ...[...info.models, ...info.datasetDirs].map((m) => h("option", { value: m }))),
    h(
      "div",
      { class: "train-grid" },
      h("div", { class: "train-form" }, h("h2", {}, "Recipe options"), form.element),
      h(
        "div",
        { class: "train-recipe" },
        h("h2", {}, "Recipe"),
        h("p", { class: "muted" }, "Changes in the form rewrite the recipe; paste or edit a recipe and press “Recipe → form” to load it into the form."),
        editor,
        extraNote,
        h(
          "div",
          { class: "buttons" },
          h("button", { testid: "recipe-to-form", onclick: () => void recipeToForm() }, "Recipe → form"),
          h("button", { testid: "preview-button", onclick: () => void showPreview() }, "Preview data"),
        ),
        h("h3", {}, "Check"),
        diagnostics,
        preview,
        launcher(() => editor.value, diagnostics, editor),
      ),
    ),
  );
  formChanged();
}
