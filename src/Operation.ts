/**
 * The shape shared by every generated operation: a function from input to `Effect`,
 * carrying its static descriptor.
 *
 * @since 0.1.0
 */
import type * as internal from "./internal/operation.js"

/**
 * The static facts of an operation, as the generator read them off the spec.
 *
 * @since 0.1.0
 * @category models
 */
export type Descriptor<S extends number = number> = internal.Descriptor<S>

/**
 * An operation: `(input) => Effect<A, OperationError<S, Gated>, CamundaClient>` with its descriptor attached.
 * Operations without input take no argument; those whose input is all optional take it optionally.
 * `Gated` operations wait for a backpressure permit and may be refused one; left out, the
 * type stands for either kind.
 *
 * @since 0.1.0
 * @category models
 */
export type Operation<I, A, S extends number, Gated extends boolean = boolean> = internal.Operation<I, A, S, Gated>

/**
 * The input an operation takes.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Input<O> = O extends internal.Operation<infer I, any, any, any> ? I : never

/**
 * The success value of an operation.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Success<O> = O extends internal.Operation<any, infer A, any, any> ? A : never

/**
 * One entry of the registry `operations`.
 *
 * @since 0.1.0
 * @category models
 */
export interface OperationInfo {
  readonly operationId: string
  /** The module the operation lives in, e.g. `UserTask`. */
  readonly module: string
  /** The spec tag, e.g. `User task`. */
  readonly tag: string
  readonly method: internal.Method
  /** The spec's path template, relative to `/v2`, e.g. `/user-tasks/{userTaskKey}/completion`. */
  readonly path: string
  /** The error statuses the spec declares. */
  readonly declaredErrors: ReadonlyArray<number>
  /** `x-eventually-consistent`: the operation reads secondary storage. */
  readonly eventuallyConsistent: boolean
  /** Whether repeating the call after an ambiguous failure cannot change state (reads and searches). */
  readonly safeToRepeat: boolean
  readonly deprecated: boolean
  /** `x-added-in-version`. */
  readonly addedInVersion: string
}
