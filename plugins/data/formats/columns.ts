// Column and tag options shared by the format plugins: the same names as dataset_info.json's
// "columns" and "tags", so a dataset given directly in a recipe is described like one in the file.
import { COLUMN_NAMES, type OptionSchema, TAG_NAMES } from "../../../core/index.ts";

export const columnOptions: OptionSchema = Object.fromEntries(
  COLUMN_NAMES.map((c) => [c, { type: "string", doc: `the row's "${c}" column (dataset_info.json columns.${c})` }]),
);
export const tagOptions: OptionSchema = Object.fromEntries(
  TAG_NAMES.map((t) => [t, { type: "string", doc: `sharegpt ${t.replace("_", " ")} (dataset_info.json tags.${t})` }]),
);
