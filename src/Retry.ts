/**
 * Retrying on backpressure, as `Schedule`s (the only place the client builds schedules).
 *
 * A backpressure answer means the cluster did not process the command, so repeating it is
 * safe for every operation. Other failures (500, 502, 504, a dropped connection) are
 * ambiguous: the command may have been processed. They are retried only for operations that
 * are safe to repeat (reads and searches), and only when the policy opts in.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Schedule from "effect/Schedule"
import type { CamundaError } from "./CamundaError.js"

/**
 * How calls are retried.
 *
 * @since 0.1.0
 * @category models
 */
export interface Policy {
  /** Attempts in all, the first included; 1 turns retries off. */
  readonly maxAttempts: number
  /** The first delay; each next one doubles. */
  readonly baseDelay: Duration.Duration
  /** No delay is longer (before `Retry-After`, which always wins). */
  readonly maxDelay: Duration.Duration
  /** `full`: uniform in [0, delay]; `proportional`: ±20 %; `none`: exact (for tests). */
  readonly jitter: "full" | "proportional" | "none"
  /** Also retry 500, 502, 503, 504 and transport failures, for operations safe to repeat. */
  readonly retryTransientReads: boolean
}

/**
 * The default: backpressure only, 100 ms doubling to at most 5 s, full jitter, 6 attempts.
 *
 * @since 0.1.0
 * @category policies
 */
export const defaultPolicy: Policy = {
  maxAttempts: 6,
  baseDelay: Duration.millis(100),
  maxDelay: Duration.seconds(5),
  jitter: "full",
  retryTransientReads: false
}

/**
 * No retries.
 *
 * @since 0.1.0
 * @category policies
 */
export const none: Policy = /*#__PURE__*/ Object.assign({}, defaultPolicy, { maxAttempts: 1 })

/**
 * Backpressure, as servers 8.6–8.9 signal it: 429; 503 titled `RESOURCE_EXHAUSTED`; 500
 * with `RESOURCE_EXHAUSTED` in its title or detail.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isBackpressure = (error: CamundaError): boolean => {
  switch (error._tag) {
    case "TooManyRequests":
      return true
    case "ServiceUnavailable":
      return error.title === "RESOURCE_EXHAUSTED"
    case "InternalServerError":
      return `${error.title} ${error.detail ?? ""}`.includes("RESOURCE_EXHAUSTED")
    case "UnexpectedStatus": {
      const problem = error.problem
      if (error.status === 429) return true
      const text = `${problem?.title ?? ""} ${problem?.detail ?? ""}`
      return (error.status === 503 || error.status === 500) && text.includes("RESOURCE_EXHAUSTED")
    }
    default:
      return false
  }
}

/**
 * A failure after which the command may or may not have been processed.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTransient = (error: CamundaError): boolean => {
  switch (error._tag) {
    case "InternalServerError":
    case "BadGateway":
    case "ServiceUnavailable":
    case "GatewayTimeout":
      return true
    case "TransportError":
      return error.reason !== "ResponseBody"
    case "UnexpectedStatus":
      return error.status >= 500
    default:
      return false
  }
}

/**
 * Whether `policy` retries `error` for an operation (`safeToRepeat`: a read or search).
 *
 * @since 0.1.0
 * @category predicates
 */
export const shouldRetry = (policy: Policy, safeToRepeat: boolean) => (error: CamundaError): boolean =>
  isBackpressure(error) || (policy.retryTransientReads && safeToRepeat && isTransient(error))

/** The `Retry-After` a failure carries, if it is one of ours and the server sent one. */
const retryAfterOf = (failure: unknown): Duration.Duration | undefined =>
  typeof failure === "object" && failure !== null && "retryAfter" in failure && Duration.isDuration(failure.retryAfter)
    ? failure.retryAfter
    : undefined

/**
 * `delay` in whole milliseconds (jitter yields fractions, which TestClock cannot represent),
 * but never sooner than the failure's `Retry-After`.
 */
const atLeastRetryAfter = (failure: unknown, delay: Duration.Duration): Duration.Duration => {
  const wait = Duration.millis(Math.ceil(Duration.toMillis(delay)))
  const retryAfter = retryAfterOf(failure)
  return retryAfter === undefined ? wait : Duration.max(wait, retryAfter)
}

const jittered = (policy: Policy) => <Out, In>(schedule: Schedule.Schedule<Out, In>): Schedule.Schedule<Out, In> => {
  switch (policy.jitter) {
    case "full":
      return Schedule.jitteredWith(schedule, { min: 0, max: 1 })
    case "proportional":
      return Schedule.jitteredWith(schedule, { min: 0.8, max: 1.2 })
    case "none":
      return schedule
  }
}

/**
 * The delays of `policy`: exponential from `baseDelay`, capped at `maxDelay`, jittered,
 * `maxAttempts - 1` retries, and never sooner than the failure's `Retry-After`.
 *
 * @since 0.1.0
 * @category schedules
 */
export const schedule = (policy: Policy): Schedule.Schedule<unknown, CamundaError> => {
  const delays = Schedule.exponential(policy.baseDelay).pipe(
    Schedule.modifyDelay((_, delay) => Duration.min(delay, policy.maxDelay)),
    jittered(policy),
    Schedule.intersect(Schedule.recurs(Math.max(0, policy.maxAttempts - 1)))
  )
  return Schedule.identity<CamundaError>().pipe(
    Schedule.intersect(delays),
    Schedule.modifyDelay(([error], delay) => atLeastRetryAfter(error, delay))
  )
}

/**
 * Retries of an OAuth token request that failed for lack of an answer, 429 or 5xx:
 * 200 ms, 400 ms, 800 ms, on the Clock.
 *
 * @since 0.1.0
 * @category schedules
 */
export const tokenRequestSchedule: Schedule.Schedule<unknown> = /*#__PURE__*/ Schedule.intersect(
  Schedule.exponential(Duration.millis(200)),
  Schedule.recurs(3)
)

/**
 * A policy from partial settings over {@link defaultPolicy}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const policy = (settings: {
  readonly maxAttempts?: number | undefined
  readonly baseDelay?: Duration.DurationInput | undefined
  readonly maxDelay?: Duration.DurationInput | undefined
  readonly jitter?: Policy["jitter"] | undefined
  readonly retryTransientReads?: boolean | undefined
}): Policy => ({
  maxAttempts: settings.maxAttempts ?? defaultPolicy.maxAttempts,
  baseDelay: settings.baseDelay === undefined ? defaultPolicy.baseDelay : Duration.decode(settings.baseDelay),
  maxDelay: settings.maxDelay === undefined ? defaultPolicy.maxDelay : Duration.decode(settings.maxDelay),
  jitter: settings.jitter ?? defaultPolicy.jitter,
  retryTransientReads: settings.retryTransientReads ?? defaultPolicy.retryTransientReads
})

/**
 * Pauses of a `JobWorker` between failed job activations: 100 ms doubling up to 10 s, each
 * jittered to between half and all of it (so at most one request per 5 s in a long outage,
 * and a fleet of workers does not poll in step), in whole milliseconds, never sooner than the
 * failure's `Retry-After`, and forever: a worker recovers by itself once the cluster answers.
 * The worker starts it afresh after every activation that succeeds.
 *
 * @since 0.1.0
 * @category schedules
 */
export const activationBackoff: Schedule.Schedule<unknown, unknown> = /*#__PURE__*/ Schedule.modifyDelay(
  /*#__PURE__*/ Schedule.intersect(
    /*#__PURE__*/ Schedule.identity<unknown>(),
    /*#__PURE__*/ Schedule.jitteredWith(
      /*#__PURE__*/ Schedule.modifyDelay(
        /*#__PURE__*/ Schedule.exponential(/*#__PURE__*/ Duration.millis(100)),
        (_, delay) => Duration.min(delay, Duration.seconds(10))
      ),
      { min: 0.5, max: 1 }
    )
  ),
  ([failure], delay) => atLeastRetryAfter(failure, delay)
)

/**
 * The default polling of `Eventually.eventually` for eventually consistent reads (secondary
 * storage lags commands by the exporter's flush interval, about a second): the next
 * attempt after 100 ms, then 200, 400, 800 ms, then every second; no jitter, no bound of
 * its own (the caller's `timeout` ends it). On the Clock.
 *
 * @since 0.1.0
 * @category schedules
 */
export const eventualConsistencySchedule: Schedule.Schedule<unknown> = /*#__PURE__*/ Schedule.modifyDelay(
  /*#__PURE__*/ Schedule.exponential(/*#__PURE__*/ Duration.millis(100)),
  (_, delay) => Duration.min(delay, Duration.seconds(1))
)
