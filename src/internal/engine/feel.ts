/**
 * FEEL through `feelin`: conditions, correlation keys, mappings, and ISO-8601 durations.
 */
import { evaluate } from "feelin"

/** A FEEL expression that could not be evaluated, with the interpreter's reason. */
export class FeelError extends Error {}

/** A FEEL result as plain JSON (temporal values become their ISO-8601 strings), with the interpreter's warnings. */
export interface FeelResult {
  readonly value: unknown
  readonly warnings: ReadonlyArray<string>
}

const plain = (value: unknown): unknown => (value === null || value === undefined ? null : JSON.parse(JSON.stringify(value)))

/** Evaluates `expression` against `variables`; a syntax error is a `FeelError`, unknown variables are warnings. */
export const evaluateFeelResult = (expression: string, variables: Readonly<Record<string, unknown>>): FeelResult => {
  let result: ReturnType<typeof evaluate>
  try {
    result = evaluate(expression, variables as Record<string, any>)
  } catch (cause) {
    throw new FeelError(`failed to evaluate '${expression}': ${cause instanceof Error ? cause.message : String(cause)}`)
  }
  return { value: plain(result.value), warnings: result.warnings.map((warning) => warning.message) }
}

/** Evaluates `expression` against `variables`; an unknown variable or a syntax error is a `FeelError`. */
export const evaluateFeel = (expression: string, variables: Readonly<Record<string, unknown>>): unknown => {
  const { value, warnings } = evaluateFeelResult(expression, variables)
  if (value === null && warnings.length > 0) throw new FeelError(`failed to evaluate '${expression}': ${warnings.join("; ")}`)
  return value
}

/** An attribute as Zeebe reads it: `=expression` is evaluated, anything else is the string itself. */
export const attributeValue = (text: string, variables: Readonly<Record<string, unknown>>): unknown => {
  const trimmed = text.trim()
  return trimmed.startsWith("=") ? evaluateFeel(trimmed.slice(1), variables) : text
}

/** The instant `duration` (ISO-8601, e.g. `PT30S`, `P1M`) after `fromMillis`, calendar-aware, to the millisecond. */
export const addDuration = (fromMillis: number, duration: string): number => {
  const seconds = Math.floor(fromMillis / 1000) * 1000
  const end = evaluateFeelResult(`string(date and time(start) + duration(period))`, {
    start: new Date(seconds).toISOString().replace(/\.000Z$/, "Z"),
    period: duration.trim()
  }).value
  const millis = typeof end === "string" ? Date.parse(end) : Number.NaN
  if (Number.isNaN(millis)) throw new FeelError(`'${duration}' is not an ISO-8601 duration`)
  return millis + (fromMillis - seconds)
}
