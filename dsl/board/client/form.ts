// A form generated from /api/form: one fieldset per section, one control per option field, and for
// sections with variants (a method's or a stage's own options) the fields of the chosen variant only.
// A section with an `enabled` switch shows its fields only when on. Values are keyed "section.field",
// as /api/form/recipe takes them; the server drops values equal to their default.

import type { FormField, FormSection, FormValues } from "./api.ts";
import { h } from "./dom.ts";

type Control = HTMLInputElement | HTMLSelectElement;

export interface GeneratedForm {
  readonly element: HTMLElement;
  /** What the form holds: empty controls, hidden variants and the fields of switched-off sections are left out. */
  values(): FormValues;
  /** Sets every control from `values` (recipe → form); controls not named go back to empty or their default. */
  setValues(values: FormValues): void;
}

export interface FormOptions {
  /** Show only these sections, in this order (Evaluate, Export); default: all. */
  readonly only?: readonly string[];
  /** Values always sent (a page that switches the train block off); their controls are not shown. */
  readonly fixed?: FormValues;
  /** datalist ids by value key, for fields with known suggestions (model folders). */
  readonly suggestions?: Readonly<Record<string, string>>;
}

/** The field whose choices name the section's variants ("method.name" picks lora's or freeze's fields). */
function variantSelector(section: FormSection): FormField | undefined {
  const choices = Object.keys(section.variants ?? {});
  if (choices.length === 0) return undefined;
  const enums = section.fields.filter((f) => f.kind === "enum" && (f.choices ?? []).some((c) => choices.includes(c)));
  return enums.find((f) => f.key === "name") ?? enums[0];
}

function shown(value: unknown): string {
  return Array.isArray(value) ? value.join(", ") : String(value);
}

function controlFor(id: string, field: FormField, list: string | undefined): Control {
  const base = { testid: `field-${id}`, title: field.doc ?? "", name: id, required: field.required === true };
  const placeholder = field.default === undefined ? (field.units ? `e.g. 10 ${field.units[0]}` : "") : shown(field.default);
  switch (field.kind) {
    case "boolean":
      return h("input", { ...base, type: "checkbox", checked: field.default === true });
    case "enum":
      return h(
        "select",
        base,
        h("option", { value: "" }, field.default === undefined ? "(not set)" : `(default: ${field.default})`),
        ...(field.choices ?? []).map((c) => h("option", { value: c }, c)),
      );
    case "number":
    case "integer":
      // A value with a unit (10%, 100 steps) is text; a plain number gets the browser's range check.
      if (field.units) return h("input", { ...base, type: "text", placeholder: `${placeholder} (units: ${field.units.join(", ")})` });
      return h("input", { ...base, type: "number", placeholder, min: field.min, max: field.max, step: field.kind === "integer" ? 1 : "any" });
    case "list":
      return h("input", { ...base, type: "text", placeholder: placeholder || (field.choices ? field.choices.slice(0, 4).join(", ") : "a, b, c") });
    default:
      return h("input", { ...base, type: "text", placeholder, list });
  }
}

function readControl(field: FormField, control: Control): unknown {
  if (control instanceof HTMLInputElement && control.type === "checkbox") return control.checked === (field.default === true) ? undefined : control.checked;
  const text = control.value.trim();
  if (text === "") return undefined;
  if (field.kind === "list")
    return text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  // Numbers go as typed (1e-4, 10%, 100 steps): the server writes them verbatim and checks them.
  return text;
}

function writeControl(field: FormField, control: Control, value: unknown): void {
  if (control instanceof HTMLInputElement && control.type === "checkbox") {
    control.checked = value === undefined ? field.default === true : value === true || value === "true";
    return;
  }
  const text = value === undefined || value === null ? "" : shown(value);
  if (control instanceof HTMLSelectElement && text !== "" && ![...control.options].some((o) => o.value === text))
    control.appendChild(h("option", { value: text }, text));
  control.value = text;
}

export function generateForm(all: readonly FormSection[], onChange: () => void, options: FormOptions = {}): GeneratedForm {
  const fixed = options.fixed ?? {};
  const sections = options.only ? options.only.flatMap((id) => all.filter((s) => s.id === id)) : all;
  const controls = new Map<string, { field: FormField; control: Control; row: HTMLElement; section: string }>();
  const variantRows = new Map<string, Map<string, HTMLElement[]>>();
  const fieldsets = new Map<string, HTMLElement>();

  function row(section: FormSection, field: FormField): HTMLElement {
    const id = `${section.id}.${field.key}`;
    const control = controlFor(id, field, options.suggestions?.[id] ?? (field.kind === "path" ? "paths" : undefined));
    control.addEventListener(control instanceof HTMLSelectElement || control.type === "checkbox" ? "change" : "input", onChange);
    const label = h(
      "label",
      { class: field.key === "enabled" ? "field field-enabled" : "field", title: field.doc },
      h("span", { class: "field-label" }, field.label),
      control,
    );
    if (field.doc && field.doc !== field.label) label.appendChild(h("small", { class: "field-doc" }, field.doc));
    if (id in fixed) label.hidden = true;
    controls.set(id, { field, control, row: label, section: section.id });
    return label;
  }

  function enabled(section: string): boolean {
    const c = controls.get(`${section}.enabled`);
    if (`${section}.enabled` in fixed) return fixed[`${section}.enabled`] === true;
    return c === undefined || (c.control as HTMLInputElement).checked;
  }

  function showVariant(section: FormSection, choice: string): void {
    const byChoice = variantRows.get(section.id) ?? new Map<string, HTMLElement[]>();
    const chosen = new Set(byChoice.get(choice) ?? []);
    for (const rows of byChoice.values()) for (const r of rows) r.hidden = !chosen.has(r);
  }

  function refreshEnabled(): void {
    for (const [id, set] of fieldsets) set.classList.toggle("off", !enabled(id));
  }

  for (const section of sections) {
    const set = h("fieldset", { testid: `section-${section.id}`, class: "section" }, h("legend", { title: section.doc }, section.title));
    for (const field of section.fields) set.appendChild(row(section, field));
    const selector = variantSelector(section);
    if (selector && section.variants) {
      const byChoice = new Map<string, HTMLElement[]>();
      for (const [choice, fields] of Object.entries(section.variants)) {
        // Two variants may share an option name (rank for lora and qlora): one control, shown for both.
        byChoice.set(
          choice,
          fields.map((field) => controls.get(`${section.id}.${field.key}`)?.row ?? set.appendChild(row(section, field))),
        );
      }
      variantRows.set(section.id, byChoice);
      const sel = controls.get(`${section.id}.${selector.key}`)!.control;
      sel.addEventListener("change", () => showVariant(section, sel.value || String(selector.default ?? "")));
      showVariant(section, String(selector.default ?? ""));
    }
    controls.get(`${section.id}.enabled`)?.control.addEventListener("change", refreshEnabled);
    fieldsets.set(section.id, set);
  }
  refreshEnabled();

  return {
    element: h("div", { class: "form", testid: "form" }, ...fieldsets.values()),
    values() {
      const out: FormValues = {};
      for (const [id, { field, control, row, section }] of controls) {
        if (row.hidden || id in fixed || (field.key !== "enabled" && !enabled(section))) continue;
        const v = readControl(field, control);
        if (v !== undefined) out[id] = v;
      }
      return { ...out, ...fixed };
    },
    setValues(values) {
      for (const [id, { field, control }] of controls) if (!(id in fixed)) writeControl(field, control, values[id]);
      for (const section of sections) {
        const selector = variantSelector(section);
        if (selector) showVariant(section, String(values[`${section.id}.${selector.key}`] ?? selector.default ?? ""));
      }
      refreshEnabled();
    },
  };
}
