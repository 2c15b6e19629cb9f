// The board server's HTTP contract as the pages see it (docs: the board section of the notes): types
// and one fetch wrapper that turns every failure into a message a user can read.

import type { FormSectionBase } from "../form-contract.ts";
export interface Diagnostic {
  readonly severity: "error" | "warning";
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
  readonly source?: string;
  /** Exactly as lft check prints it: the location, the source line and a caret. */
  readonly text?: string;
}

export type { FieldKind, FormField } from "../form-contract.ts";
export type FormSection = FormSectionBase;

export type FormValues = Record<string, unknown>;

export interface Info {
  readonly version: string;
  readonly store: string;
  readonly cwd: string;
  readonly models: readonly string[];
  readonly datasetDirs: readonly string[];
  /** Trained adapters found under ./runs (folders with adapter_config.json). */
  readonly adapters?: readonly string[];
}

export interface RunRecord {
  readonly id: string;
  readonly name: string;
  readonly recipe: string | null;
  readonly status: string;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly step: number;
  readonly totalSteps: number | null;
  readonly pid: number | null;
  readonly error: string | null;
}

export type Series = readonly (readonly [number, number])[];
export type Metrics = Record<string, Series>;

export interface RunDetail {
  readonly run: RunRecord;
  readonly metrics: Metrics;
  readonly log: readonly string[];
}

export interface Sample {
  readonly text: string;
  readonly prompt: string;
  readonly response: string;
  readonly tokens: number;
}

export type Reply<T> =
  | { readonly ok: true; readonly data: T }
  | { readonly ok: false; readonly status: number; readonly message: string; readonly body?: unknown };

/** GET or POST JSON; a network failure, a non-2xx answer or a non-JSON body becomes { ok: false, message }. */
export async function call<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<Reply<T>> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    return { ok: false, status: 0, message: `the board server did not answer (${(e as Error).message}); is lft board still running?` };
  }
  let parsed: unknown;
  try {
    parsed = await response.json();
  } catch {
    return { ok: false, status: response.status, message: `the board server answered ${response.status} without JSON` };
  }
  if (response.ok) return { ok: true, data: parsed as T };
  const error = (parsed as { error?: { message?: string } } | null)?.error;
  const message = error?.message ?? `the board server answered ${response.status}`;
  return { ok: false, status: response.status, message, body: parsed };
}

export const api = {
  info: () => call<Info>("GET", "/api/info"),
  form: () => call<{ sections: FormSection[] }>("GET", "/api/form"),
  /** `extra`: what recipe → form kept verbatim, put back around the form's blocks. */
  formToRecipe: (values: FormValues, extra = "") => call<{ recipe: string; diagnostics: Diagnostic[] }>("POST", "/api/form/recipe", { values, extra }),
  recipeToForm: (recipe: string) => call<{ values: FormValues; extra: string; diagnostics: Diagnostic[] }>("POST", "/api/recipe/form", { recipe }),
  check: (recipe: string) => call<{ diagnostics: Diagnostic[] }>("POST", "/api/check", { recipe }),
  plan: (recipe: string) => call<{ plan: { line: string; peakBytes: number } }>("POST", "/api/plan", { recipe }),
  preview: (recipe: string, count = 3) => call<{ samples?: Sample[]; error?: string }>("POST", "/api/preview", { recipe, count }),
  runs: () => call<{ runs: RunRecord[] }>("GET", "/api/runs"),
  run: (id: string) => call<RunDetail>("GET", `/api/runs/${encodeURIComponent(id)}`),
  compare: (ids: readonly string[]) =>
    call<{ runs: { run: RunRecord; metrics: Metrics }[] }>("GET", `/api/runs/compare?ids=${ids.map(encodeURIComponent).join(",")}`),
  launch: (recipe: string) => call<{ id: string; pid: number }>("POST", "/api/runs", { recipe }),
  stop: (id: string) => call<{ ok: boolean }>("POST", `/api/runs/${encodeURIComponent(id)}/stop`),
  openChat: (model: string, adapter?: string, template?: string) => call<{ session: string }>("POST", "/api/chat/sessions", { model, adapter, template }),
  closeChat: (session: string) => call<unknown>("DELETE", `/api/chat/sessions/${encodeURIComponent(session)}`),
};

/** The diagnostics of a 422 launch answer, if that is what it was. */
export function diagnosticsOf(body: unknown): Diagnostic[] | undefined {
  const d = (body as { diagnostics?: unknown } | null)?.diagnostics;
  return Array.isArray(d) ? (d as Diagnostic[]) : undefined;
}
