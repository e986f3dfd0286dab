import type * as HttpClient from "@effect/platform/HttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Tracer from "effect/Tracer"

/**
 * How one attempt of an operation runs on an HTTP client: with its deadline (the client's
 * `requestTimeout`, or a long poll's own plus a margin), past which the attempt's request is
 * aborted and the attempt fails with `onTimeout()`, and under the operation's span, the parent
 * of whatever the client traces and the source of the `traceparent` header.
 *
 * The generic way (`genericRunner`) works with any `HttpClient`: `Effect.withParentSpan` and
 * `Effect.timeoutFail`, which races the attempt against a sleep in two forked fibers (on a
 * 2-core machine about half the CPU of a call) and changes the fiber's context for the span
 * (about a sixth). An HTTP client that can do both itself brings an `AttemptRunner` under the
 * `AttemptRunner` key: this package's `UndiciHttpClient` does (a timer and an abort signal, and
 * the span handed to the request by the attempt's fiber; no fiber, no context change). The
 * executor uses it when the client in the service carries it. A client wrapped by the
 * application loses the key and runs attempts the generic way. The runner lives with its
 * client, so a bundle without that client carries none of it.
 *
 * @internal
 */
export const AttemptRunner: unique symbol = Symbol.for("effect-camunda/AttemptRunner")

/** @internal */
export interface AttemptOptions<E, E2> {
  /** Past it, the request is aborted (none when infinite). */
  readonly timeout: Duration.Duration
  /** The operation's span, `undefined` with tracing off. */
  readonly span: Tracer.Span | undefined
  /** Whether a failure of the attempt may be the abort (a transport failure, not an answer). */
  readonly isAbort: (error: E) => boolean
  readonly onTimeout: () => E2
}

/**
 * Runs `attempt` with `options`' deadline and span, failing with `onTimeout()` when a failure of
 * the attempt comes from the abort at the deadline.
 *
 * @internal
 */
export type AttemptRunner = <A, E, E2>(
  attempt: Effect.Effect<A, E>,
  options: AttemptOptions<E, E2>
) => Effect.Effect<A, E | E2>

/** Gives `client` its own way to run attempts. @internal */
export const withAttemptRunner = <C extends HttpClient.HttpClient>(client: C, runner: AttemptRunner): C =>
  Object.assign(client, { [AttemptRunner]: runner })

/** The attempt runner `client` carries, if any. @internal */
export const attemptRunner = (client: HttpClient.HttpClient): AttemptRunner | undefined =>
  (client as { readonly [AttemptRunner]?: AttemptRunner })[AttemptRunner]

/**
 * Any client: the span as the parent span of the attempt, the deadline with
 * `Effect.timeoutFail` (interrupting the attempt aborts its request).
 *
 * @internal
 */
export const genericRunner: AttemptRunner = (attempt, { onTimeout, span, timeout }) => {
  const traced = span === undefined ? attempt : Effect.withParentSpan(attempt, span)
  return Duration.isFinite(timeout) ? Effect.timeoutFail(traced, { duration: timeout, onTimeout }) : traced
}

/**
 * Runs `attempt` through `httpClient`'s runner when it has one, else the generic way.
 *
 * @internal
 */
export const runAttempt = <A, E, E2>(
  httpClient: HttpClient.HttpClient,
  attempt: Effect.Effect<A, E>,
  options: AttemptOptions<E, E2>
): Effect.Effect<A, E | E2> => (attemptRunner(httpClient) ?? genericRunner)(attempt, options)
