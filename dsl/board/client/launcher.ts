// Launch and Stop for a recipe (Train, Evaluate & predict, Export): POST /api/runs runs it as an
// ordinary recipe run; Stop sends the run its graceful stop (SIGINT, as Ctrl-C). The launched run is
// shown live below the buttons.

import { api, diagnosticsOf } from "./api.ts";
import { showDiagnostics, showProblem } from "./diagnostics.ts";
import { fill, h } from "./dom.ts";
import { type RunView, runView } from "./run-view.ts";

export function launcher(recipe: () => string, diagnostics: HTMLElement, editor?: HTMLTextAreaElement): HTMLElement {
  const status = h("span", { class: "launch-status", testid: "launch-status" });
  const host = h("div", { class: "launched" });
  let current: { id: string; view: RunView } | undefined;

  const launchButton = h("button", { testid: "launch", class: "primary" }, "Launch");
  const stopButton = h("button", { testid: "stop", disabled: true }, "Stop");

  launchButton.addEventListener("click", async () => {
    launchButton.disabled = true;
    status.textContent = "checking and starting…";
    const reply = await api.launch(recipe());
    if (!reply.ok) {
      launchButton.disabled = false;
      const found = diagnosticsOf(reply.body);
      if (found) showDiagnostics(diagnostics, found, editor);
      else showProblem(diagnostics, reply.message);
      status.textContent = found ? "the recipe has errors: fix them and launch again" : "not started";
      return;
    }
    current?.view.close();
    const { id } = reply.data;
    status.textContent = `started run ${id} (pid ${reply.data.pid})`;
    stopButton.disabled = false;
    const view = runView(id, (end) => {
      status.textContent = `run ${id} ${end}`;
      stopButton.disabled = true;
      launchButton.disabled = false;
    });
    current = { id, view };
    fill(host, view.element);
  });

  stopButton.addEventListener("click", async () => {
    if (!current) return;
    stopButton.disabled = true;
    status.textContent = `stopping run ${current.id}…`;
    const reply = await api.stop(current.id);
    if (!reply.ok) {
      status.textContent = `could not stop: ${reply.message}`;
      stopButton.disabled = false;
    }
  });

  return h("div", { class: "launcher" }, h("div", { class: "buttons" }, launchButton, stopButton, status), host);
}
