import type * as HttpClient from "@effect/platform/HttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/**
 * The deadline of one attempt (the client's `requestTimeout`, or a long poll's own plus a
 * margin): past it the attempt's request is aborted and the attempt fails with `onTimeout()`.
 *
 * The generic way is `Effect.timeoutFail`, which races the attempt against a sleep in two
 * forked fibers: on a 2-core machine that is about half the CPU of a call. An HTTP client that
 * can abort its own request at a deadline brings a `DeadlineRunner` under the
 * `AttemptDeadline` key (this package's `UndiciHttpClient` does: a timer and an abort signal,
 * no fiber); the executor uses it when the client in the service carries it. A client wrapped
 * by the application loses the key and is timed the generic way. The runner lives with its
 * client, so a bundle without that client carries none of it.
 *
 * @internal
 */
export const AttemptDeadline: unique symbol = Symbol.for("effect-camunda/AttemptDeadline")

/**
 * Runs `attempt` with a deadline of `millis`, failing with `onTimeout()` when a failure of the
 * attempt comes from the abort at the deadline (`isAbort` tells transport failures from answers).
 *
 * @internal
 */
export type DeadlineRunner = <A, E, E2>(
  attempt: Effect.Effect<A, E>,
  timeout: Duration.Duration,
  isAbort: (error: E) => boolean,
  onTimeout: () => E2
) => Effect.Effect<A, E | E2>

/** Gives `client` its own way to run attempts with a deadline. @internal */
export const withDeadlineRunner = <C extends HttpClient.HttpClient>(client: C, runner: DeadlineRunner): C =>
  Object.assign(client, { [AttemptDeadline]: runner })

/** The deadline runner `client` carries, if any. @internal */
export const deadlineRunner = (client: HttpClient.HttpClient): DeadlineRunner | undefined =>
  (client as { readonly [AttemptDeadline]?: DeadlineRunner })[AttemptDeadline]

/**
 * Runs `attempt` with a deadline of `timeout` (none when infinite): through the HTTP client's
 * runner when it has one, else with `Effect.timeoutFail` (interrupting the attempt aborts its
 * request).
 *
 * @internal
 */
export const withDeadline = <A, E, E2>(
  attempt: Effect.Effect<A, E>,
  options: {
    readonly timeout: Duration.Duration
    readonly httpClient: HttpClient.HttpClient
    /** Whether a failure of the attempt may be the abort (a transport failure, not an answer). */
    readonly isAbort: (error: E) => boolean
    readonly onTimeout: () => E2
  }
): Effect.Effect<A, E | E2> => {
  const { onTimeout, timeout } = options
  if (!Duration.isFinite(timeout)) return attempt
  const runner = deadlineRunner(options.httpClient)
  return runner === undefined
    ? Effect.timeoutFail(attempt, { duration: timeout, onTimeout })
    : runner(attempt, timeout, options.isAbort, onTimeout)
}
