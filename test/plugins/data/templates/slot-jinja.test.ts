// Slot templates as Jinja chat templates: the rendering matches the slots (system, turns, the assistant
// cue at the end), and templates with no slot-only form give undefined rather than a wrong template.
import { expect, test } from "bun:test";
import { renderChatTemplate } from "../../../../core/index.ts";
import { slotTemplateAsJinja } from "../../../../plugins/data/index.ts";
import { chatmlTemplate } from "../../../../plugins/data/templates/chatml.ts";
import { llama2Template } from "../../../../plugins/data/templates/llama2.ts";

test("chatml renders its markup with quotes and newlines escaped", () => {
  const jinja = slotTemplateAsJinja(chatmlTemplate.spec);
  expect(jinja).toBeDefined();
  const text = renderChatTemplate(jinja!, [
    { role: "system", content: "be 'kind'" },
    { role: "user", content: "hi" },
  ])._unsafeUnwrap();
  expect(text).toBe("<|im_start|>system\nbe 'kind'<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
});

test("a template that fuses the system into the first turn has no slot-only Jinja form", () => {
  expect(slotTemplateAsJinja(llama2Template.spec)).toBeUndefined();
});
