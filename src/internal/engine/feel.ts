/**
 * FEEL through `feelin`: conditions, correlation keys, and ISO-8601 durations.
 */
import { evaluate } from "feelin"

/** A FEEL expression that could not be evaluated, with the interpreter's reason. */
export class FeelError extends Error {}

/** Evaluates `expression` against `variables`; an unknown variable or a syntax error is a `FeelError`. */
export const evaluateFeel = (expression: string, variables: Readonly<Record<string, unknown>>): unknown => {
  let result: ReturnType<typeof evaluate>
  try {
    result = evaluate(expression, variables as Record<string, any>)
  } catch (cause) {
    throw new FeelError(`failed to evaluate '${expression}': ${cause instanceof Error ? cause.message : String(cause)}`)
  }
  const problem = result.warnings.find((warning) => warning.type !== "NO_VARIABLE_FOUND")
  if (result.value === null && result.warnings.length > 0) {
    throw new FeelError(`failed to evaluate '${expression}': ${(problem ?? result.warnings[0])!.message}`)
  }
  return result.value
}

/** The instant `duration` (ISO-8601, e.g. `PT30S`) after `fromMillis`. */
export const addDuration = (fromMillis: number, duration: string): number => {
  const end = evaluateFeel(`string(date and time(start) + duration(period))`, {
    start: new Date(fromMillis).toISOString(),
    period: duration
  })
  const millis = typeof end === "string" ? Date.parse(end) : Number.NaN
  if (Number.isNaN(millis)) throw new FeelError(`'${duration}' is not an ISO-8601 duration`)
  return millis
}
