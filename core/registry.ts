// Public entry of the registry: hook points (collections and event hooks), plugins, option schemas.
// The implementation lives in core/registry/. Entry and hook interfaces can be augmented through
// this module (`declare module ".../core/registry" { interface ModelEntry { ... } }`).

export {
  type BackendEntry,
  builtinCollections,
  type CollectionMap,
  type CollectionName,
  type CollectionNouns,
  type CollectionTypes,
  type CommandEntry,
  type CommandIO,
  type CommandSession,
  type DatasetEntry,
  type EntryBase,
  type MethodEntry,
  type MetricEntry,
  type MetricInput,
  type ModelEntry,
  type OptimizerEntry,
  type RewardEntry,
  type RewardInput,
  type StageEntry,
  type TemplateEntry,
} from "./registry/collections";
export {
  type DeclarableCollection,
  type DeclaredEntry,
  declarableCollections,
  declarationMismatches,
  declaredPlugin,
  type PluginDeclaration,
  parseDeclaration,
} from "./registry/declared";
export { HookBus, HookError, type HookErrorReason } from "./registry/hook-bus";
export {
  builtinHookKinds,
  type EvalEvent,
  type FirstHook,
  type HookArgs,
  type HookDescriptor,
  type HookFn,
  type HookKind,
  type HookMap,
  type HookName,
  type HookNamesOfKind,
  type HookResult,
  type HookTypes,
  type HookValue,
  type ParallelHook,
  type ReduceHook,
  type RunEndEvent,
  type RunStartEvent,
  type SaveEvent,
  type SequentialHook,
  type StepEvent,
} from "./registry/hooks";
export {
  type BooleanSpec,
  describe,
  type EnumSpec,
  type ListSpec,
  type NumberSpec,
  type OptionError,
  type OptionSchema,
  type OptionShape,
  type OptionSpec,
  type OptionsOf,
  type OptionValue,
  type ResolvedOptions,
  type StringSpec,
  schemaProblems,
  type ValueOfShape,
  validateOptions,
} from "./registry/options";
export {
  definePlugin,
  isPlugin,
  PLUGIN_BRAND,
  type Plugin,
  type PluginApi,
  type PluginDefinition,
  PluginError,
  type PluginErrorReason,
  type Registrars,
} from "./registry/plugin";
export { createRegistry, LookupError, type PluginInfo, Registry, type RegistrySpec } from "./registry/registry";
export { didYouMean, editDistance, suggest } from "./registry/suggest";
