// Where the run store lives: LFT_HOME (relative to the working folder when relative), else the XDG
// data folder, else ~/.local/share/lft.
import { expect, test } from "bun:test";
import { lftHome, runStorePath } from "../../../core/index.ts";

test("LFT_HOME wins, then XDG_DATA_HOME/lft, then ~/.local/share/lft", () => {
  expect(runStorePath({ LFT_HOME: "/data/lft", XDG_DATA_HOME: "/x", HOME: "/home/u" }, "/work")).toBe("/data/lft/runs.sqlite");
  expect(runStorePath({ XDG_DATA_HOME: "/x", HOME: "/home/u" }, "/work")).toBe("/x/lft/runs.sqlite");
  expect(runStorePath({ HOME: "/home/u" }, "/work")).toBe("/home/u/.local/share/lft/runs.sqlite");
  // Empty values count as unset.
  expect(lftHome({ LFT_HOME: "", XDG_DATA_HOME: " ", HOME: "/home/u" }, "/work")).toBe("/home/u/.local/share/lft");
});

test("a relative LFT_HOME (a project's own store, e.g. .lft) resolves against the working folder", () => {
  expect(runStorePath({ LFT_HOME: ".lft", HOME: "/home/u" }, "/work/project")).toBe("/work/project/.lft/runs.sqlite");
});
