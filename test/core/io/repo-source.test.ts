// parseRepoId: which model paths are hub ids (`org/name[@revision]`) and which stay local paths.
import { expect, test } from "bun:test";
import { parseRepoId } from "../../../core/index.ts";

test("org/name and org/name@rev are hub ids; paths, bare names and deeper paths are not", () => {
  expect(parseRepoId("Qwen/Qwen3-0.6B")).toEqual({ id: "Qwen/Qwen3-0.6B" });
  expect(parseRepoId("meta-llama/Llama-3.2-1B@refs/pr/3")).toEqual({ id: "meta-llama/Llama-3.2-1B", revision: "refs/pr/3" });
  expect(parseRepoId("org/name@0123456789abcdef0123456789abcdef01234567")?.revision).toBe("0123456789abcdef0123456789abcdef01234567");
  for (const path of ["./org/name", "/abs/model", "models/a/b", "stories260K", "../x/y", "org/..", "org/name@", "org/na me"])
    expect(parseRepoId(path)).toBeUndefined();
});
