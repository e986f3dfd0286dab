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
 * `AbortController` (it looks it up with `attemptController(fiber)` and aborts its request when the
 * controller aborts) lets the attempt run in the caller's fiber instead, with a plain timer
 * that aborts the controller at the deadline. The attempt then fails with the client's own
 * abort error, which the executor reports as a timeout.
 *
 * That path is taken only when both hold; otherwise the executor uses `Effect.timeoutFail`:
 * - the HTTP client is marked with `FollowsAttemptController` (this package's
 *   `UndiciHttpClient`; a client wrapped by the application loses the mark and is timed the
 *   generic way);
 * - the fiber's `Clock` is the live one, whose `sleep` is this same timer. Under `TestClock`
 *   (or any other clock) the deadline stays an Effect sleep, so tests drive it.
 *
 * @internal
 */
export const FollowsAttemptController: unique symbol = Symbol.for("effect-camunda/FollowsAttemptController")

/** Marks `client` as following the attempt's controller. @internal */
export const markFollowsAttemptController = <C extends HttpClient.HttpClient>(client: C): C =>
  Object.assign(client, { [FollowsAttemptController]: true })

/** Whether `client` follows the attempt's controller. @internal */
export const followsAttemptController = (client: HttpClient.HttpClient): boolean => FollowsAttemptController in client

/**
 * The controllers of the attempts running now, by the fiber running each. A fiber forked
 * inside an attempt (the OAuth token fetch, shared by many calls) has none: only the
 * attempt's own request ends with the attempt. (A `FiberRef` would do the same, at the cost
 * of copying the fiber's refs twice per attempt.)
 */
const attemptControllers = new WeakMap<Fiber.RuntimeFiber<any, any>, AbortController>()

/** The controller of the attempt `fiber` is running, if it has a deadline of this kind. @internal */
export const attemptController = (fiber: Fiber.RuntimeFiber<any, any>): AbortController | undefined =>
  attemptControllers.get(fiber)

/** What the controller of an attempt that ran out of time is aborted with. @internal */
export const deadlineExceeded: unique symbol = Symbol.for("effect-camunda/DeadlineExceeded")

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
  if (!followsAttemptController(options.httpClient) || millis > maxTimerMillis) {
    return Effect.timeoutFail(attempt, { duration: timeout, onTimeout: options.onTimeout })
  }
  return Effect.withFiberRuntime<A, E | E2>((fiber) => {
    const clock = Context.get(fiber.getFiberRef(DefaultServices.currentServices), Clock.Clock)
    if (clock !== liveClock) return Effect.timeoutFail(attempt, { duration: timeout, onTimeout: options.onTimeout })
    const controller = new AbortController()
    const timer = setTimeout(abortAtDeadline, millis, controller)
    attemptControllers.set(fiber, controller)
    const settle = () => {
      clearTimeout(timer)
      attemptControllers.delete(fiber)
    }
    return Effect.uninterruptibleMask((restore) =>
      Effect.matchCauseEffect(restore(attempt), {
        onSuccess: (value) => {
          settle()
          return Effect.succeed(value)
        },
        onFailure: (cause): Effect.Effect<never, E | E2> => {
          settle()
          const timedOut = controller.signal.reason === deadlineExceeded && cause._tag === "Fail" && options.isAbort(cause.error)
          return timedOut ? Effect.fail(options.onTimeout()) : Effect.failCause(cause)
        }
      })
    )
  })
}

const abortAtDeadline = (controller: AbortController) => controller.abort(deadlineExceeded)
