// Only for type-checking this example inside lft's own repository, where lft is not installed as a
// package: it points the peer dependency's entries at the repository's core and data plugins, naming exactly what the
// example uses. Installed packages resolve the real lft instead; this file is not published (see
// "files" in package.json).

declare module "lft/core/index.ts" {
  export const definePlugin: typeof import("../../core/index.ts").definePlugin;
  export const DEFAULT_COLUMNS: typeof import("../../core/index.ts").DEFAULT_COLUMNS;
  export const createRegistry: typeof import("../../core/index.ts").createRegistry;
  export const fileDatasetAttr: typeof import("../../core/index.ts").fileDatasetAttr;
  export const validateOptions: typeof import("../../core/index.ts").validateOptions;
  export type CommandEntry = import("../../core/index.ts").CommandEntry;
  export type DatasetFormat = import("../../core/index.ts").DatasetFormat;
  export type MetricEntry = import("../../core/index.ts").MetricEntry;
  export type OptionSchema = import("../../core/index.ts").OptionSchema;
}

declare module "lft/plugins/data/index.ts" {
  export const asRow: typeof import("../../plugins/data/index.ts").asRow;
  export const requireString: typeof import("../../plugins/data/index.ts").requireString;
}
