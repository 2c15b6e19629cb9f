// The Train form, generated from /api/form: one fieldset per section, one control per option field,
// and for sections with variants (a method's own options) the fields of the chosen variant only.
// Values are keyed "section.field", as /api/form/recipe takes them.

import type { FormField, FormSection, FormValues } from "./api.ts";
import { h } from "./dom.ts";

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

export interface GeneratedForm {
  readonly element: HTMLElement;
  /** What the user set: empty controls and booleans at their default are left out (the recipe omits them). */
  values(): FormValues;
  /** Sets every control from `values` (recipe → form); controls not named are cleared. */
  setValues(values: FormValues): void;
}

/** The field whose choices name the section's variants ("method.name" picks lora's or freeze's fields). */
function variantSelector(section: FormSection): FormField | undefined {
  const choices = Object.keys(section.variants ?? {});
  if (choices.length === 0) return undefined;
  const enums = section.fields.filter((f) => f.kind === "enum" && (f.choices ?? []).some((c) => choices.includes(c)));
  return enums.find((f) => f.key === "name") ?? enums[0];
}

function controlFor(id: string, field: FormField, datalists: Record<string, string>): Control {
  const testid = `field-${id}`;
  const title = field.doc ?? "";
  const placeholder = field.default === undefined ? "" : `${Array.isArray(field.default) ? field.default.join(", ") : field.default}`;
  switch (field.kind) {
    case "boolean":
      return h("input", { type: "checkbox", testid, title, name: id, checked: field.default === true });
    case "enum":
      return h(
        "select",
        { testid, title, name: id },
        h("option", { value: "" }, field.default === undefined ? "(not set)" : `(default: ${field.default})`),
        ...(field.choices ?? []).map((c) => h("option", { value: c }, c)),
      );
    case "number":
    case "integer":
      return h("input", { type: "number", testid, title, name: id, placeholder, min: field.min, max: field.max, step: field.kind === "integer" ? 1 : "any" });
    case "list":
      return h("input", { type: "text", testid, title, name: id, placeholder: placeholder || "a, b, c" });
    default:
      return h("input", { type: "text", testid, title, name: id, placeholder, list: datalists[id] ?? (field.kind === "path" ? "paths" : undefined) });
  }
}

function readControl(field: FormField, control: Control): unknown {
  if (control instanceof HTMLInputElement && control.type === "checkbox") return control.checked === (field.default === true) ? undefined : control.checked;
  const text = control.value.trim();
  if (text === "") return undefined;
  if (field.kind === "number" || field.kind === "integer") {
    const n = Number(text);
    return Number.isFinite(n) ? n : text; // the server reports a non-number with its location
  }
  if (field.kind === "list")
    return text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  return text;
}

function writeControl(field: FormField, control: Control, value: unknown): void {
  if (control instanceof HTMLInputElement && control.type === "checkbox") control.checked = value === undefined ? field.default === true : value === true;
  else if (value === undefined || value === null) control.value = "";
  else if (Array.isArray(value)) control.value = value.join(", ");
  else {
    if (control instanceof HTMLSelectElement && ![...control.options].some((o) => o.value === String(value)))
      control.appendChild(h("option", { value: String(value) }, String(value)));
    control.value = String(value);
  }
}

/** `suggestions`: datalist ids for fields with known choices (model folders, dataset dirs). */
export function generateForm(sections: readonly FormSection[], onChange: () => void, suggestions: Record<string, string> = {}): GeneratedForm {
  const controls = new Map<string, { field: FormField; control: Control; row: HTMLElement }>();
  const variantRows = new Map<string, Map<string, HTMLElement[]>>();

  function row(id: string, field: FormField): HTMLElement {
    const control = controlFor(id, field, suggestions);
    control.addEventListener(control instanceof HTMLSelectElement || control.type === "checkbox" ? "change" : "input", onChange);
    const label = h("label", { class: "field", title: field.doc }, h("span", { class: "field-label" }, field.label), control);
    if (field.doc) label.appendChild(h("small", { class: "field-doc" }, field.doc));
    controls.set(id, { field, control, row: label });
    return label;
  }

  function showVariant(section: FormSection, choice: string): void {
    const byChoice = variantRows.get(section.id) ?? new Map<string, HTMLElement[]>();
    const shown = new Set(byChoice.get(choice) ?? []);
    for (const rows of byChoice.values()) for (const r of rows) r.hidden = !shown.has(r);
  }

  const fieldsets = sections.map((section) => {
    const set = h("fieldset", { testid: `section-${section.id}`, class: "section" }, h("legend", {}, section.title));
    for (const field of section.fields) set.appendChild(row(`${section.id}.${field.key}`, field));
    const selector = variantSelector(section);
    if (selector && section.variants) {
      const byChoice = new Map<string, HTMLElement[]>();
      const box = h("div", { class: "variant", testid: `variant-${section.id}` });
      for (const [choice, fields] of Object.entries(section.variants)) {
        // Two variants may share an option name (rank for lora and qlora): one control per name, shown for both.
        const rows: HTMLElement[] = [];
        for (const field of fields) {
          const id = `${section.id}.${field.key}`;
          const existing = controls.get(id);
          if (existing) rows.push(existing.row);
          else {
            const r = row(id, field);
            box.appendChild(r);
            rows.push(r);
          }
        }
        byChoice.set(choice, rows);
      }
      variantRows.set(section.id, byChoice);
      set.appendChild(box);
      const sel = controls.get(`${section.id}.${selector.key}`)!.control;
      sel.addEventListener("change", () => showVariant(section, sel.value || String(selector.default ?? "")));
      showVariant(section, String(selector.default ?? ""));
    }
    return set;
  });

  function visible(id: string): boolean {
    return !controls.get(id)!.row.hidden;
  }

  return {
    element: h("div", { class: "form", testid: "train-form" }, ...fieldsets),
    values() {
      const out: FormValues = {};
      for (const [id, { field, control }] of controls) {
        if (!visible(id)) continue;
        const v = readControl(field, control);
        if (v !== undefined) out[id] = v;
      }
      return out;
    },
    setValues(values) {
      for (const [id, { field, control }] of controls) writeControl(field, control, values[id]);
      for (const section of sections) {
        const selector = variantSelector(section);
        if (selector) showVariant(section, String(values[`${section.id}.${selector.key}`] ?? selector.default ?? ""));
      }
    },
  };
}
