import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Tracer from "effect/Tracer"

/**
 * How one attempt of an operation runs on an HTTP client: the request goes out, the answer
 * is read with `onResponse`, all within the attempt's deadline (the client's `requestTimeout`,
 * or a long poll's own plus a margin; past it the request is aborted and the attempt fails
 * with `onTimeout()`), and under the operation's span, the parent of whatever the client
 * traces and the source of the `traceparent` header.
 *
 * The generic way (`runGeneric`) works with any `HttpClient`: `execute`, then
 * `Effect.withParentSpan` and `Effect.timeoutFail`, which races the attempt against a sleep in
 * two forked fibers (on a 2-core machine about half the CPU of a call) and changes the fiber's
 * context for the span (about a sixth). An HTTP client that can do all of it itself brings an
 * `AttemptRunner` under the `AttemptRunner` key: this package's `UndiciHttpClient` does (one
 * asynchronous step per attempt: a timer and an abort signal, the span's trace context put on
 * the request, no fiber, no context change). The executor uses it when the client in the
 * service carries it. A client wrapped by the application loses the key and runs attempts
 * the generic way. The runner lives with its client, so a bundle without that client carries
 * none of it.
 *
 * @internal
 */
export const AttemptRunner: unique symbol = Symbol.for("effect-camunda/AttemptRunner")

/** @internal */
export interface AttemptOptions<E, E2> {
  /** Past it, the request is aborted (none when infinite). */
  readonly timeout: Duration.Duration
  /**
   * The operation's span, the parent of what the client traces; `undefined` when there is
   * none (tracing off, or Effect's built-in tracer: see `internal/tracing.ts` `withOwnSpan`).
   */
  readonly span: Tracer.Span | undefined
  /**
   * What a runner that sends the request itself puts in `traceparent`: the operation's span,
   * else the caller's span, `undefined` with tracing off. (The generic way leaves this to the
   * client, which propagates its own span.)
   */
  readonly traceContext: Tracer.AnySpan | undefined
  /** What a failure of the exchange itself (transport, unreadable body) is for the caller. */
  readonly onError: (error: HttpClientError.HttpClientError) => E
  readonly onTimeout: () => E2
  /**
   * Where a runner that sends the request itself leaves the way to abort it while it is in
   * flight, instead of a finalizer of its own: the caller's one finalizer calls it when the
   * call ends (is interrupted) with a request still out. Generic attempts abort through the
   * client, by interruption.
   */
  readonly inFlight: InFlight
  /** The calling fiber's clock: a runner keeping deadlines with timers of its own needs the live one. */
  readonly clock: Clock.Clock
}

/**
 * The request of a call that is in flight now, if any (see `AttemptOptions.inFlight`).
 *
 * @internal
 */
export interface InFlight {
  abort: (() => void) | undefined
}

/**
 * Sends `request` and reads the answer with `onResponse` under `options`' deadline and span.
 *
 * @internal
 */
export type AttemptRunner = <A, E, E2>(
  request: HttpClientRequest.HttpClientRequest,
  onResponse: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, E>,
  options: AttemptOptions<E, E2>
) => Effect.Effect<A, E | E2>

/** Gives `client` its own way to run attempts. @internal */
export const withAttemptRunner = <C extends HttpClient.HttpClient>(client: C, runner: AttemptRunner): C =>
  Object.assign(client, { [AttemptRunner]: runner })

/** The attempt runner `client` carries, if any. @internal */
export const attemptRunner = (client: HttpClient.HttpClient): AttemptRunner | undefined =>
  (client as { readonly [AttemptRunner]?: AttemptRunner })[AttemptRunner]

/**
 * Any client: `execute`, the span as the parent span of the attempt, the deadline with
 * `Effect.timeoutFail` (interrupting the attempt aborts its request).
 *
 * @internal
 */
export const runGeneric = <A, E, E2>(
  httpClient: HttpClient.HttpClient,
  request: HttpClientRequest.HttpClientRequest,
  onResponse: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, E>,
  { onError, onTimeout, span, timeout }: AttemptOptions<E, E2>
): Effect.Effect<A, E | E2> => {
  const attempt = Effect.flatMap(Effect.mapError(httpClient.execute(request), onError), onResponse)
  const traced = span === undefined ? attempt : Effect.withParentSpan(attempt, span)
  return Duration.isFinite(timeout) ? Effect.timeoutFail(traced, { duration: timeout, onTimeout }) : traced
}

/**
 * Runs an attempt through `httpClient`'s runner when it has one, else the generic way.
 *
 * @internal
 */
export const runAttempt = <A, E, E2>(
  httpClient: HttpClient.HttpClient,
  request: HttpClientRequest.HttpClientRequest,
  onResponse: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, E>,
  options: AttemptOptions<E, E2>
): Effect.Effect<A, E | E2> => {
  const runner = attemptRunner(httpClient)
  return runner === undefined ? runGeneric(httpClient, request, onResponse, options) : runner(request, onResponse, options)
}
