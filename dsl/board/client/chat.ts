// The Chat page: pick a model folder (and an adapter), the board starts `lft api` for it, and answers
// stream in token by token through the board's OpenAI-style proxy.

import { api, type Info } from "./api.ts";
import { fill, h } from "./dom.ts";
import { readChatStream } from "./text.ts";

interface Message {
  readonly role: "system" | "user" | "assistant";
  content: string;
}

export function chatPage(root: HTMLElement, info: Info): () => void {
  const model = h("input", { testid: "chat-model", list: "chat-models", placeholder: "model folder", value: info.models[0] ?? "" });
  const adapter = h("input", { testid: "chat-adapter", list: "chat-adapters", placeholder: "adapter folder (optional), e.g. runs/my-lora" });
  const template = h("input", { testid: "chat-template", placeholder: "template (optional)" });
  const system = h("input", { testid: "chat-system", placeholder: "system prompt (optional)" });
  const temperature = h("input", { testid: "chat-temperature", type: "number", min: 0, step: "0.1", value: "0" });
  const maxTokens = h("input", { testid: "chat-max-tokens", type: "number", min: 1, step: 1, value: "64" });
  const status = h("span", { class: "muted", testid: "chat-status" }, "no model open");
  const log = h("div", { class: "chat-log", testid: "chat-log" });
  const input = h("textarea", { testid: "chat-input", rows: 2, placeholder: "Write a message, Enter sends (Shift+Enter: new line)", disabled: true });
  const send = h("button", { testid: "chat-send", class: "primary", disabled: true }, "Send");
  const openButton = h("button", { testid: "chat-open", class: "primary" }, "Open");
  const messages: Message[] = [];
  let session: string | undefined;

  function bubble(role: string, text: string): HTMLElement {
    const el = h("div", { class: `msg msg-${role}`, testid: `chat-${role}` }, text);
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
    return el;
  }

  async function close(): Promise<void> {
    if (session) await api.closeChat(session);
    session = undefined;
  }

  openButton.addEventListener("click", async () => {
    openButton.disabled = true;
    await close();
    status.textContent = "starting lft api…";
    const r = await api.openChat(model.value.trim(), adapter.value.trim() || undefined, template.value.trim() || undefined);
    openButton.disabled = false;
    if (!r.ok) {
      status.textContent = r.message;
      status.className = "error";
      return;
    }
    session = r.data.session;
    messages.length = 0;
    fill(log);
    status.className = "muted";
    status.textContent = `chatting with ${model.value.trim()}${adapter.value.trim() ? ` + ${adapter.value.trim()}` : ""}`;
    input.disabled = send.disabled = false;
    input.focus();
  });

  async function sendMessage(): Promise<void> {
    const text = input.value.trim();
    if (!session || text === "") return;
    input.value = "";
    input.disabled = send.disabled = true;
    bubble("user", text);
    messages.push({ role: "user", content: text });
    const answer = bubble("assistant", "");
    answer.classList.add("streaming");
    const sys = system.value.trim();
    // No `model`: the board fills in the name the session's lft api serves (GET /v1/models).
    const body = {
      messages: sys ? [{ role: "system", content: sys }, ...messages] : messages,
      stream: true,
      temperature: Number(temperature.value) || 0,
      max_tokens: Number(maxTokens.value) || 64,
    };
    let reply = "";
    try {
      const response = await fetch(`/api/chat/sessions/${encodeURIComponent(session)}/completions`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!response.ok || !response.body) {
        const err = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
        throw new Error(err?.error?.message ?? `the board answered ${response.status}`);
      }
      await readChatStream(response.body, (t) => {
        reply += t;
        answer.textContent = reply;
        log.scrollTop = log.scrollHeight;
      });
      messages.push({ role: "assistant", content: reply });
    } catch (e) {
      answer.classList.add("error");
      answer.textContent = `${reply}${reply ? "\n" : ""}[${(e as Error).message}]`;
      messages.pop();
    } finally {
      answer.classList.remove("streaming");
      answer.dataset.done = "true";
      input.disabled = send.disabled = false;
      input.focus();
    }
  }

  send.addEventListener("click", () => void sendMessage());
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      void sendMessage();
    }
  });

  fill(
    root,
    h("datalist", { id: "chat-models" }, ...info.models.map((m) => h("option", { value: m }))),
    h("datalist", { id: "chat-adapters" }, ...(info.adapters ?? []).map((m) => h("option", { value: m }))),
    h("h2", {}, "Chat"),
    h(
      "div",
      { class: "chat-settings" },
      h("label", {}, "Model ", model),
      h("label", {}, "Adapter ", adapter),
      h("label", {}, "Template ", template),
      openButton,
      status,
    ),
    h(
      "div",
      { class: "chat-settings" },
      h("label", {}, "System ", system),
      h("label", {}, "Temperature ", temperature),
      h("label", {}, "Max tokens ", maxTokens),
    ),
    log,
    h("div", { class: "chat-input" }, input, send),
  );
  return () => void close();
}
