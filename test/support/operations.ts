/**
 * Every generated operation, found through the public modules (not the registry), so
 * the tests see exactly what users import.
 */
import * as Api from "../../src/generated/index.js"
import type { Descriptor } from "../../src/Operation.js"

/** An operation function with its descriptor. */
export type AnyOperation = ((input?: unknown) => import("effect/Effect").Effect<unknown, unknown, any>) & {
  readonly descriptor: Descriptor
}

const isOperation = (value: unknown): value is AnyOperation =>
  typeof value === "function" && "descriptor" in value

/** operationId → operation, over every tag module. */
export const allOperations: ReadonlyMap<string, AnyOperation> = new Map(
  Object.entries(Api).flatMap(([, module]) =>
    typeof module === "object" && module !== null
      ? Object.values(module).filter(isOperation).map((operation) => [operation.descriptor.operationId, operation] as const)
      : []
  )
)
