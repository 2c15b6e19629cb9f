// lft board end to end in headless Chromium: `lft board --port 0` in a temp folder with its own
// LFT_HOME, the printed link opened, the Train form filled for the shipped 260K-parameter model and
// the identity set, the recipe read back, the data previewed, a run launched and its loss curve seen
// gaining points over server-sent events, the run stopped (the graceful stop), found on the Runs page,
// and a streamed chat answer (when `lft api` is present). LFT_BOARD_SCREENSHOTS=1 also saves each
// page to docs/board/*.png (how the README's screenshots are made).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { repoRoot } from "../helpers.ts";
import { launchChromium, skipReason, until as untilIn } from "./chromium.ts";

// Copied into the board's folder and named relative to it, as a user's project would hold them.
const model = "models/stories260K";
const identity = "data/identity.json";
const shots = process.env.LFT_BOARD_SCREENSHOTS === "1" ? join(repoRoot, "docs", "board") : undefined;

/** Whether this tree has `lft api` (another part of issue 16): the chat step needs it. */
async function hasApiVerb(): Promise<boolean> {
  const p = Bun.spawn([join(repoRoot, "lft"), "api", "--help"], { stdout: "pipe", stderr: "pipe" });
  const text = (await new Response(p.stdout).text()) + (await new Response(p.stderr).text());
  await p.exited;
  return !text.includes('unknown verb "api"');
}

if (skipReason) console.warn(`skip: ${skipReason}`);

describe.skipIf(skipReason !== undefined)("lft board in Chromium", () => {
  const work = mkdtempSync(join(tmpdir(), "lft-board-browser-"));
  cpSync(join(repoRoot, "examples", "models", "stories260K"), join(work, model), { recursive: true });
  cpSync(join(repoRoot, "examples", "data", "identity.json"), join(work, identity));
  let board: ReturnType<typeof Bun.spawn> | undefined;
  let link = "";
  /** The board's own output, kept for the message of a step that times out. */
  let boardOutput = "";
  const until = async (what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> => {
    try {
      await untilIn(what, check, ms);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nlft board's output (tail):\n${boardOutput.slice(-3000)}`);
    }
  };
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    board = Bun.spawn([join(repoRoot, "lft"), "board", "--port", "0"], {
      cwd: work,
      env: { ...process.env, LFT_HOME: join(work, "home"), CI: "true" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const reader = (board.stdout as ReadableStream<Uint8Array>).getReader();
    let out = "";
    const deadline = Date.now() + 30_000;
    while (!/lft board: (http:\/\/\S+)\n/.test(out)) {
      const { done, value } = await reader.read();
      if (done || Date.now() > deadline) throw new Error(`lft board printed no link: ${out}${await new Response(board.stderr as ReadableStream).text()}`);
      out += new TextDecoder().decode(value);
    }
    link = /lft board: (http:\/\/\S+)\n/.exec(out)![1]!;
    boardOutput = out;
    void (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        boardOutput += new TextDecoder().decode(value);
      }
    })();
    void (async () => {
      for await (const chunk of board.stderr as ReadableStream<Uint8Array>) boardOutput += new TextDecoder().decode(chunk);
    })();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    page.setDefaultTimeout(30_000);
    if (shots) mkdirSync(shots, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (board) {
      board.kill("SIGINT");
      await Promise.race([board.exited, Bun.sleep(10_000)]);
      board.kill("SIGKILL");
    }
    rmSync(work, { recursive: true, force: true });
  });

  const shot = async (name: string) => {
    if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
  };
  const recipe = () => page.getByTestId("recipe-text").inputValue();
  const points = async () =>
    Number(
      (await page
        .getByTestId("chart-loss")
        .getAttribute("data-points")
        .catch(() => "0")) ?? 0,
    );

  test("the link is loopback with a token, and the page refuses a wrong one", async () => {
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
    const origin = new URL(link).origin;
    expect((await fetch(`${origin}/api/info`)).status).toBe(401);
    await page.goto(link);
    await page.getByTestId("section-model").waitFor();
  });

  test("fill the Train form: the recipe follows, lft check is clean, the data previews", async () => {
    await page.getByTestId("field-model.name").selectOption("llama");
    await page.getByTestId("field-model.source").fill(model);
    await page.getByTestId("field-model.template").selectOption("default");
    await page.getByTestId("field-dataset.name").selectOption("alpaca");
    await page.getByTestId("field-dataset.source").fill(identity);
    await page.getByTestId("field-method.name").selectOption("lora");
    await page.getByTestId("field-method.rank").fill("4");
    await page.getByTestId("field-train.name").selectOption("sft");
    await page.getByTestId("field-train.duration").fill("3000");
    await page.getByTestId("field-train.duration_unit").selectOption("steps");
    await page.getByTestId("field-train.lr").fill("5e-3");
    await page.getByTestId("field-train.log_every").fill("1");
    await page.getByTestId("field-train.output").fill("runs/tiny-lora");
    await until("the recipe to follow the form", async () => (await recipe()).includes('output = "runs/tiny-lora"'));
    const text = await recipe();
    expect(text).toContain(`model llama "${model}"`);
    expect(text).toContain("rank = 4");
    expect(text).toMatch(/train sft for 3000 steps/);
    await until("lft check to pass", async () => (await page.getByTestId("diagnostics").getAttribute("data-errors")) === "0");
    await page.getByTestId("preview-button").click();
    await page.getByTestId("preview-sample").first().waitFor();
    expect(await page.getByTestId("preview-sample").first().textContent()).toMatch(/tokens/);
    await shot("train");
  });

  test("a bad value shows the located diagnostic lft check gives", async () => {
    await page.getByTestId("field-train.lr").fill("-1");
    await until("an error", async () => Number(await page.getByTestId("diagnostics").getAttribute("data-errors")) > 0);
    expect(await page.getByTestId("diagnostic").first().textContent()).toMatch(/^\d+:\d+\s*error.*lr/);
    await page.getByTestId("field-train.lr").fill("5e-3");
    await until("the error to clear", async () => (await page.getByTestId("diagnostics").getAttribute("data-errors")) === "0");
  });

  test("a pasted recipe fills the form, and what the form cannot show survives form edits", async () => {
    const before = await recipe();
    const pasted = `# a comment the form cannot show
model llama "${model}" { template = default }
dataset alpaca "${identity}"
method lora { rank = 8, alpha = 16, targets = [all] }
train sft for 5 epochs { lr = 2e-3, batch = 4 }
chat "Who are you?" { temperature = 0 }
`;
    await page.getByTestId("recipe-text").fill(pasted);
    await page.getByTestId("recipe-to-form").click();
    // Numbers come back as numbers (2e-3 → 0.002), as the recipe's value means.
    await until("the form to take the recipe", async () => (await page.getByTestId("field-train.lr").inputValue()) === "0.002");
    expect(await page.getByTestId("field-method.rank").inputValue()).toBe("8");
    expect(await page.getByTestId("field-train.duration").inputValue()).toBe("5");
    await page.getByTestId("field-train.batch").fill("2");
    await until("the recipe to follow the edit", async () => (await recipe()).includes("batch = 2"));
    const text = await recipe();
    expect(text).toContain("# a comment the form cannot show");
    expect(text).toContain('chat "Who are you?"');
    expect(text).toContain("lr = 0.002");
    // Back to the form the rest of the test fills.
    await page.getByTestId("recipe-text").fill(before);
    await page.getByTestId("recipe-to-form").click();
    await until("the first recipe back in the form", async () => (await page.getByTestId("field-train.lr").inputValue()) === "0.005");
    await until("lft check to pass again", async () => (await page.getByTestId("diagnostics").getAttribute("data-errors")) === "0");
  });

  test("launch: the loss curve gains points live; Stop is the graceful stop", async () => {
    await page.getByTestId("launch").click();
    await until("the first loss points", async () => (await points()) >= 2, 45_000);
    const seen = await points();
    await until("more loss points", async () => (await points()) >= seen + 3, 30_000);
    await shot("run-live");
    await page.getByTestId("stop").click();
    await until("the run to stop", async () => (await page.getByTestId("run-status").first().textContent()) === "interrupted", 30_000);
    // An ordinary recipe run: its output folder, relative to the board's folder, holds the stop's checkpoint.
    expect(readdirSync(join(work, "runs", "tiny-lora")).some((f) => f.startsWith("checkpoint-"))).toBe(true);
  }, 90_000);

  test("a second run (launched over the API) compared with the first", async () => {
    const origin = new URL(link).origin;
    const auth = { authorization: `Bearer ${new URL(link).searchParams.get("token")}`, "content-type": "application/json" };
    const short = `model llama "${model}" { template = default }\ndataset alpaca "${identity}"\nmethod lora { rank = 2 }\ntrain sft for 12 steps { lr = 1e-2, log_every = 1, output = "runs/tiny-lora-2" }\n`;
    const launched = await fetch(`${origin}/api/runs`, { method: "POST", headers: auth, body: JSON.stringify({ recipe: short }) });
    expect(launched.status).toBe(201);
    const { id } = (await launched.json()) as { id: string };
    await until(
      "the second run to finish",
      async () => {
        const r = (await (await fetch(`${origin}/api/runs/${id}`, { headers: auth })).json()) as { run: { status: string } };
        return r.run.status === "completed";
      },
      40_000,
    );
    await page.getByTestId("nav-runs").click();
    await until("two runs listed", async () => (await page.getByTestId("run-link").count()) === 2);
    const boxes = page.locator("[data-testid^=select-]");
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await shot("runs");
    await page.getByTestId("compare").click();
    const loss = page.getByTestId("compare-charts").getByTestId("chart-loss");
    await loss.waitFor();
    expect(await loss.locator("path.chart-line").count()).toBe(2);
    await shot("compare");
  }, 90_000);

  test("the stopped run opens with its curve and recipe", async () => {
    await page.getByTestId("nav-runs").click();
    await page.getByTestId("run-link").last().waitFor();
    await page.getByTestId("run-link").last().click();
    await page.getByTestId("chart-loss").waitFor();
    expect(await points()).toBeGreaterThan(3);
    expect(await page.getByTestId("run-status").textContent()).toBe("interrupted");
    await shot("run");
  });

  test("chat: a streamed answer from the model (through lft api)", async () => {
    await page.getByTestId("nav-chat").click();
    await page.getByTestId("chat-model").fill(model);
    if (!(await hasApiVerb())) {
      console.warn("skip: the chat step needs `lft api`, which this tree does not have yet (issue 16's API part)");
      await shot("chat");
      return;
    }
    await page.getByTestId("chat-template").fill("default");
    await page.getByTestId("chat-max-tokens").fill("24");
    await page.getByTestId("chat-open").click();
    await until("the chat to open", () => page.getByTestId("chat-input").isEnabled(), 30_000);
    await page.getByTestId("chat-input").fill("Once upon a time");
    await page.getByTestId("chat-send").click();
    await page.locator("[data-testid=chat-assistant][data-done=true]").waitFor({ timeout: 30_000 });
    const answer = (await page.getByTestId("chat-assistant").textContent()) ?? "";
    expect(answer.trim().length).toBeGreaterThan(0);
    expect(answer).not.toContain("[");
    await shot("chat");
  }, 90_000);

  test("Evaluate & predict and Export build their recipes from the same form", async () => {
    await page.getByTestId("nav-evaluate").click();
    await page.getByTestId("field-model.source").fill(model);
    await page.getByTestId("field-eval.source").fill(identity);
    await until("an eval block", async () => (await recipe()).includes(`eval "${identity}"`) || /^eval \w+ "/m.test(await recipe()));
    expect(await recipe()).not.toMatch(/^train /m);
    await shot("evaluate");
    await page.getByTestId("nav-export").click();
    await page.getByTestId("field-model.source").fill(model);
    await page.getByTestId("field-model.adapter").fill("runs/tiny-lora");
    await page.getByTestId("field-export.source").fill("runs/tiny-lora/merged");
    await until("an export block", async () => (await recipe()).includes('export "runs/tiny-lora/merged"'));
    expect(await recipe()).toContain('adapter = "runs/tiny-lora"');
    await shot("export");
  });
});
