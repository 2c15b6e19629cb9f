// A method's options checked against its own schema (every method plugin validates what a recipe or a
// direct call passes it), with every problem in one MethodError.
import { err, ok, type Result } from "neverthrow";
import { MethodError, type OptionSchema, type OptionsOf, validateOptions } from "../../core/index.ts";

/** Options checked against the plugin's own schema, as a MethodError listing every problem. */
export function checkOptions<S extends OptionSchema>(schema: S, options: unknown, method: string): Result<OptionsOf<S>, MethodError> {
  const v = validateOptions(schema, options, `method "${method}"`);
  return v.isErr()
    ? err(
        new MethodError(
          v.error.map((e) => e.message).join("; "),
          v.error.map((e) => e.message),
        ),
      )
    : ok(v.value);
}
