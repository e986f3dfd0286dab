import type * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"

/**
 * The deadline of one attempt without a fiber of its own.
 *
 * `Effect.timeoutFail` races the attempt against a sleep in two forked fibers: on a 2-core
 * machine that is about half the CPU of a call. An HTTP client that follows the attempt's
 * `AttemptSignal` (it looks it up with `attemptSignal(fiber)` and aborts its request when the
 * signal fires) lets the attempt run in the caller's fiber instead, with a plain timer that
 * fires the signal at the deadline. The attempt then fails with the client's own abort error,
 * which the executor reports as a timeout.
 *
 * That path is taken only when both hold; otherwise the executor uses `Effect.timeoutFail`:
 * - the HTTP client is marked with `FollowsAttemptSignal` (this package's `UndiciHttpClient`;
 *   a client wrapped by the application loses the mark and is timed the generic way);
 * - the fiber's `Clock` is the live one, whose `sleep` is this same timer. Under `TestClock`
 *   (or any other clock) the deadline stays an Effect sleep, so tests drive it.
 *
 * @internal
 */
export const FollowsAttemptSignal: unique symbol = Symbol.for("effect-camunda/FollowsAttemptSignal")

/** Marks `client` as following the attempt's signal. @internal */
export const markFollowsAttemptSignal = <C extends HttpClient.HttpClient>(client: C): C =>
  Object.assign(client, { [FollowsAttemptSignal]: true })

/** Whether `client` follows the attempt's signal. @internal */
export const followsAttemptSignal = (client: HttpClient.HttpClient): boolean => FollowsAttemptSignal in client

type Listener = () => void

/**
 * A one-shot abort signal in the `EventEmitter` shape undici accepts for `signal`.
 *
 * undici registers a listener on an `AbortSignal` through `EventTarget`, which on this machine
 * halves the requests per second of a keep-alive connection (about 20 µs per request); an
 * emitter-shaped signal costs next to nothing.
 *
 * @internal
 */
export class AttemptSignal {
  aborted = false
  reason: unknown = undefined
  private listeners: Array<Listener> | undefined = undefined

  on(_event: "abort", listener: Listener): this {
    ;(this.listeners ??= []).push(listener)
    return this
  }

  once(event: "abort", listener: Listener): this {
    return this.on(event, listener)
  }

  removeListener(_event: "abort", listener: Listener): this {
    const listeners = this.listeners
    if (listeners !== undefined) {
      const index = listeners.indexOf(listener)
      if (index >= 0) listeners.splice(index, 1)
    }
    return this
  }

  /** Fires the signal once: every listener is called with the reason set. */
  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    const listeners = this.listeners
    this.listeners = undefined
    if (listeners !== undefined) for (const listener of listeners) listener()
  }
}

/**
 * The signals of the attempts running now, by the fiber running each. A fiber forked inside
 * an attempt (the OAuth token fetch, shared by many calls) has none: only the attempt's own
 * request ends with the attempt. (A `FiberRef` would do the same, at the cost of copying the
 * fiber's refs twice per attempt.)
 */
const attemptSignals = new WeakMap<Fiber.RuntimeFiber<any, any>, AttemptSignal>()

/** The signal of the attempt `fiber` is running, if it has a deadline of this kind. @internal */
export const attemptSignal = (fiber: Fiber.RuntimeFiber<any, any>): AttemptSignal | undefined =>
  attemptSignals.get(fiber)

/** What the signal of an attempt that ran out of time fires with. @internal */
export class DeadlineExceeded extends Error {
  override readonly name = "DeadlineExceeded"
}

const liveClock = /*#__PURE__*/ Context.get(DefaultServices.liveServices, Clock.Clock)

/** The longest delay a Node timer takes; a longer deadline is no deadline. */
const maxTimerMillis = 2 ** 31 - 1

/**
 * Runs `attempt` with a deadline of `timeout`; past it, the attempt's request is aborted and
 * it fails with `onTimeout()`. Interruption aborts the request too.
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
  const { timeout } = options
  if (!Duration.isFinite(timeout)) return attempt
  const millis = Duration.toMillis(timeout)
  if (!followsAttemptSignal(options.httpClient) || millis > maxTimerMillis) {
    return Effect.timeoutFail(attempt, { duration: timeout, onTimeout: options.onTimeout })
  }
  return Effect.withFiberRuntime<A, E | E2>((fiber) => {
    const clock = Context.get(fiber.getFiberRef(DefaultServices.currentServices), Clock.Clock)
    if (clock !== liveClock) return Effect.timeoutFail(attempt, { duration: timeout, onTimeout: options.onTimeout })
    const signal = new AttemptSignal()
    const timer = setTimeout(abortAtDeadline, millis, signal)
    attemptSignals.set(fiber, signal)
    const settle = () => {
      clearTimeout(timer)
      attemptSignals.delete(fiber)
    }
    return Effect.uninterruptibleMask((restore) =>
      Effect.matchCauseEffect(restore(attempt), {
        onSuccess: (value) => {
          settle()
          return Effect.succeed(value)
        },
        onFailure: (cause): Effect.Effect<never, E | E2> => {
          settle()
          const timedOut = signal.reason instanceof DeadlineExceeded && cause._tag === "Fail" && options.isAbort(cause.error)
          return timedOut ? Effect.fail(options.onTimeout()) : Effect.failCause(cause)
        }
      })
    )
  })
}

const abortAtDeadline = (signal: AttemptSignal) => signal.abort(new DeadlineExceeded("the attempt's deadline passed"))
