// What `:params`, `:modules` and `:memory` print: views of the runner's live model (any object
// with namedParameters(), as core/nn's Module has) and of the allocator's counters.

import type { MemoryStats } from "../../core/index.ts";
import type { LiveModel } from "../run";

const dtypeBytes: Readonly<Record<string, number>> = { f32: 4, i32: 4, bf16: 2, f16: 2, int8: 1, nf4: 0.5 };

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

interface ParamRow {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly count: number;
  readonly trainable: boolean;
}

function rows(model: LiveModel): ParamRow[] {
  return [...model.namedParameters()].map(([name, t]) => ({
    name,
    shape: t.shape,
    dtype: t.dtype,
    count: t.shape.reduce((a, b) => a * b, 1),
    trainable: t.requiresGrad === true,
  }));
}

/** Totals, then the parameters whose name contains `filter` (all when they are few). */
export function describeParams(model: LiveModel, filter?: string): string {
  const all = rows(model);
  const total = all.reduce((s, r) => s + r.count, 0);
  const trainable = all.filter((r) => r.trainable).reduce((s, r) => s + r.count, 0);
  const bytes = all.reduce((s, r) => s + r.count * (dtypeBytes[r.dtype] ?? 4), 0);
  const pct = total === 0 ? 0 : (100 * trainable) / total;
  const lines = [
    `${formatCount(total)} parameters (${total}) in ${all.length} tensors, ${formatBytes(bytes)}; trainable ${formatCount(trainable)} (${pct.toFixed(2)}%)`,
  ];
  const shown = filter === undefined ? (all.length <= 40 ? all : []) : all.filter((r) => r.name.includes(filter));
  const width = Math.max(0, ...shown.map((r) => r.name.length));
  for (const r of shown) {
    lines.push(`  ${r.name.padEnd(width)}  [${r.shape.join(", ")}] ${r.dtype}${r.trainable ? "  trainable" : ""}`);
  }
  if (filter === undefined && all.length > 40) lines.push("  (:params <text> lists the tensors whose name contains <text>)");
  if (filter !== undefined && shown.length === 0) lines.push(`  no parameter name contains "${filter}"`);
  return `${lines.join("\n")}\n`;
}

interface TreeNode {
  count: number;
  tensors: number;
  readonly children: Map<string, TreeNode>;
}

/** The module tree from parameter paths, to `depth` levels; numbered layers fold into one line. */
export function describeModules(model: LiveModel, depth = 3): string {
  const root: TreeNode = { count: 0, tensors: 0, children: new Map() };
  for (const r of rows(model)) {
    const parts = r.name.split(".").slice(0, -1);
    let node = root;
    node.count += r.count;
    node.tensors++;
    for (const part of parts) {
      let child = node.children.get(part);
      if (child === undefined) {
        child = { count: 0, tensors: 0, children: new Map() };
        node.children.set(part, child);
      }
      child.count += r.count;
      child.tensors++;
      node = child;
    }
  }
  const lines = [`model  ${formatCount(root.count)} parameters`];
  const walk = (node: TreeNode, indent: string, level: number): void => {
    if (level >= depth) return;
    const entries = [...node.children];
    const numbered = entries.filter(([name]) => /^\d+$/.test(name));
    // 32 identical layers read better as one line: layers.0-31 (32 ×).
    if (numbered.length > 1 && numbered.length === entries.length) {
      const [firstName, first] = numbered[0]!;
      const last = numbered.at(-1)![0];
      lines.push(`${indent}${firstName}-${last}  (${numbered.length} ×, ${formatCount(first.count)} each)`);
      walk(first, `${indent}  `, level + 1);
      return;
    }
    for (const [name, child] of entries) {
      lines.push(`${indent}${name}  ${formatCount(child.count)}`);
      walk(child, `${indent}  `, level + 1);
    }
  };
  walk(root, "  ", 0);
  return `${lines.join("\n")}\n`;
}

export function describeMemory(stats: MemoryStats, device = "cpu"): string {
  return (
    `${device}: live ${formatBytes(stats.liveBytes)} (${stats.liveBytes} bytes) in ${stats.liveBlocks} blocks, ` +
    `peak ${formatBytes(stats.peakBytes)} (${stats.peakBytes} bytes), cached ${formatBytes(stats.cachedBytes)}\n`
  );
}
