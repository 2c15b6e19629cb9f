// The board's browser entry (Bun.build bundles it into /app.js): loads /api/info, then routes the
// hash (#/train, #/runs, #/runs/ID, #/compare/A,B, #/chat, #/evaluate, #/export) to its page.

import { api, type Info } from "./api.ts";
import { chatPage } from "./chat.ts";
import { fill, h } from "./dom.ts";
import { evaluatePage, exportPage, trainPage } from "./pages.ts";
import { comparePage, runPage, runsPage } from "./runs.ts";

const PAGES = [
  ["train", "Train"],
  ["runs", "Runs"],
  ["chat", "Chat"],
  ["evaluate", "Evaluate & predict"],
  ["export", "Export"],
] as const;

let cleanup: (() => void) | undefined;

function route(root: HTMLElement, nav: HTMLElement, info: Info): void {
  cleanup?.();
  cleanup = undefined;
  const [page = "train", arg] = location.hash.replace(/^#\/?/, "").split("/");
  for (const link of nav.querySelectorAll("a")) link.classList.toggle("active", link.dataset.page === (page === "compare" ? "runs" : page));
  root.dataset.page = page;
  if (page === "runs" && arg) cleanup = runPage(root, decodeURIComponent(arg));
  else if (page === "runs") cleanup = runsPage(root);
  else if (page === "compare") void comparePage(root, (arg ?? "").split(",").map(decodeURIComponent));
  else if (page === "chat") cleanup = chatPage(root, info);
  else if (page === "evaluate") void evaluatePage(root, info);
  else if (page === "export") void exportPage(root, info);
  else void trainPage(root, info);
}

async function start(): Promise<void> {
  const root = document.getElementById("page")!;
  const nav = document.getElementById("nav")!;
  fill(nav, ...PAGES.map(([id, title]) => h("a", { href: `#/${id}`, testid: `nav-${id}`, "data-page": id }, title)));
  const reply = await api.info();
  if (!reply.ok) {
    fill(root, h("p", { class: "error", testid: "page-error" }, reply.message));
    return;
  }
  const info = reply.data;
  const where = document.getElementById("where");
  if (where) where.textContent = `lft ${info.version} · ${info.cwd} · store ${info.store}`;
  window.addEventListener("hashchange", () => route(root, nav, info));
  route(root, nav, info);
}

void start();
