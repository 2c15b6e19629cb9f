// The memory planner: its contract (types.ts) and planMemory.
export * from "./activations.ts";
export { planDType, planInputFromRecipe, recipeModelConfig } from "./from-recipe.ts";
export { blockShape, PlanError, planMemory, shapeOnlyGroups } from "./plan-memory.ts";
export type * from "./types.ts";
