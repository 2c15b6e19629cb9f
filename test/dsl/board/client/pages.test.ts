// The board's pages in headless Chromium against a fake board server (fake-board.ts): the generated
// form writes the recipe live, bad values show located diagnostics, a pasted recipe fills the form,
// a launched run's loss curve gains points over server-sent events, stop, compare, chat streams,
// and the Export page shows only its sections. The real server is driven in ../browser.test.ts.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { launchChromium, skipReason, until } from "../chromium.ts";
import { type FakeBoard, startFakeBoard } from "./fake-board.ts";

if (skipReason) console.warn(`skip: ${skipReason}`);

describe.skipIf(skipReason !== undefined)("board pages (fake server, Chromium)", () => {
  let board: FakeBoard;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    board = await startFakeBoard();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(10_000);
    await page.goto(board.url);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    board?.stop();
  });

  const recipe = () => page.getByTestId("recipe-text").inputValue();
  const recipeHas = (text: string) => until(`the recipe to contain ${text}`, async () => (await recipe()).includes(text));
  const points = async () => Number(await page.getByTestId("chart-loss").getAttribute("data-points"));

  test("the form is generated from /api/form and writes the recipe as it changes", async () => {
    await page.getByTestId("field-model.source").fill("models/tiny");
    await page.getByTestId("field-method.name").selectOption("lora");
    await expect(page.getByTestId("field-method.rank").isVisible()).resolves.toBe(true);
    await page.getByTestId("field-method.rank").fill("4");
    await page.getByTestId("field-train.warmup").fill("10%");
    await recipeHas("rank = 4");
    const text = await recipe();
    expect(text).toContain('model "models/tiny"');
    expect(text).toContain("method lora {\n  rank = 4\n}");
    expect(text).toContain("warmup = 10%");
    // Export is off by default: its fields are folded away and it writes no block.
    expect(text).not.toContain("export");
    await expect(page.getByTestId("field-export.merge").isVisible()).resolves.toBe(false);
  });

  test("a bad value shows lft check's located diagnostic; fixing it clears it", async () => {
    await page.getByTestId("field-train.lr").fill("-1");
    const diagnostic = page.getByTestId("diagnostic").first();
    await diagnostic.waitFor();
    expect(await diagnostic.textContent()).toMatch(/^\d+:\d+error lr must be at least 0, got -1$/);
    await page.getByTestId("field-train.lr").fill("0.001");
    await until("no errors", async () => (await page.getByTestId("diagnostics").getAttribute("data-errors")) === "0");
  });

  test("a recipe pasted into the text fills the form; what the form cannot show is kept", async () => {
    const pasted = 'model "models/other"\nmethod full\ntrain pt {\n  lr = 0.5\n}\nchat "hi"\n';
    await page.getByTestId("recipe-text").fill(pasted);
    await page.getByTestId("recipe-to-form").click();
    await until("lr from the recipe", async () => (await page.getByTestId("field-train.lr").inputValue()) === "0.5");
    expect(await page.getByTestId("field-model.source").inputValue()).toBe("models/other");
    expect(await page.getByTestId("field-method.name").inputValue()).toBe("full");
    await expect(page.getByTestId("field-method.rank").isVisible()).resolves.toBe(false);
    expect(await page.getByTestId("recipe-extra").textContent()).toContain('chat "hi"');
    // The next form change writes the recipe with the kept part.
    await page.getByTestId("field-train.lr").fill("0.25");
    await recipeHas("lr = 0.25");
    expect(await recipe()).toContain('chat "hi"');
  });

  test("launch: the loss curve gains points live; stop ends the run", async () => {
    await page.getByTestId("launch").click();
    await page.getByTestId("chart-loss").waitFor();
    const first = await points();
    await until("the loss curve to gain points", async () => (await points()) > first + 2);
    expect(await page.getByTestId("launch-status").textContent()).toContain("started run run-1");
    await page.getByTestId("stop").click();
    await until("the run to be interrupted", async () => (await page.getByTestId("run-status").textContent()) === "interrupted");
    expect(board.runs.get("run-1")!.status).toBe("interrupted");
  });

  test("runs list, a run's page, and two runs compared", async () => {
    await page.getByTestId("launch").click();
    await until(
      "the second run's curve",
      async () => (await page.getByTestId("launch-status").textContent())?.includes("run-2") === true && (await points()) > 3,
    );
    await page.getByTestId("nav-runs").click();
    await page.getByTestId("run-row-run-2").waitFor();
    await page.getByTestId("select-run-1").check();
    await page.getByTestId("select-run-2").check();
    await page.getByTestId("compare").click();
    await page.getByTestId("compare-charts").waitFor();
    const loss = page.getByTestId("compare-charts").getByTestId("chart-loss");
    expect(await loss.locator("path.chart-line").count()).toBe(2);
    await page.goto(`${new URL(board.url).origin}/#/runs/run-1`);
    await page.getByTestId("run-recipe").filter({ hasText: "lr = 0.25" }).waitFor();
    expect(await page.getByTestId("run-log").textContent()).toContain("step 1: loss");
  });

  test("chat streams the answer into the page", async () => {
    await page.getByTestId("nav-chat").click();
    await page.getByTestId("chat-open").click();
    await until("the chat input", () => page.getByTestId("chat-input").isEnabled());
    await page.getByTestId("chat-input").fill("hello there");
    await page.getByTestId("chat-input").press("Enter");
    await page.locator("[data-testid=chat-assistant][data-done=true]").waitFor();
    expect(await page.getByTestId("chat-assistant").textContent()).toBe("You said: hello there");
  });

  test("the Export page shows the model and export sections, the export switched on", async () => {
    await page.getByTestId("nav-export").click();
    await page.getByTestId("section-export").waitFor();
    expect(await page.getByTestId("section-train").count()).toBe(0);
    await page.getByTestId("field-export.source").fill("out/merged");
    await recipeHas('export "out/merged"');
    const text = await recipe();
    expect(text).toContain("merge = true");
    expect(text).not.toMatch(/^train|^dataset|^method/m);
  });
});
