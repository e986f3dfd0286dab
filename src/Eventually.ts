/**
 * Reads of eventually consistent data (`x-eventually-consistent`: searches and gets
 * answered from secondary storage, which lags the commands that changed it).
 *
 * `eventually(read, { until, timeout })` repeats `read` on Effect's `Clock` until its
 * value satisfies `until`. A `NotFound` (the record has not reached secondary storage
 * yet) counts as "not yet" too; any other failure fails at once. When `timeout` passes
 * first, it fails with {@link EventualConsistencyTimeout}, carrying the attempts, the
 * time spent and the last "not yet" result.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Eventually, Keys, ProcessInstance, UserTask } from "effect-camunda"
 *
 * const program = Effect.gen(function*() {
 *   const { processInstanceKey } = yield* ProcessInstance.createProcessInstance({
 *     processDefinitionId: Keys.ProcessDefinitionId.make("order-approval")
 *   })
 *   // a get: its 404 means "not exported yet"
 *   const instance = yield* Eventually.eventually(ProcessInstance.getProcessInstance({ processInstanceKey }), {
 *     timeout: "10 seconds"
 *   })
 *   // a search: wait until the task shows up
 *   const tasks = yield* UserTask.searchUserTasks({ filter: { processInstanceKey } }).pipe(
 *     Eventually.eventually({ until: (result) => result.items.length > 0, timeout: "10 seconds" })
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schedule from "effect/Schedule"
import type { NotFound } from "./CamundaError.js"
import * as Retry from "./Retry.js"

/**
 * An attempt that did not count: `Right` with a value `until` rejected, or `Left` with the
 * `NotFound` of a record that is not visible yet.
 *
 * @since 0.1.0
 * @category models
 */
export type NotYet<A> = Either.Either<A, NotFound>

/**
 * The condition did not hold in time: `timeout` passed (or the `schedule` ended) first.
 *
 * @since 0.1.0
 * @category errors
 */
export class EventualConsistencyTimeout<A = unknown> extends Data.TaggedError("EventualConsistencyTimeout")<{
  /** Attempts started, the first included (one cut short by the timeout counts too). */
  readonly attempts: number
  /** Time spent on the Clock, from the first attempt until giving up. */
  readonly elapsed: Duration.Duration
  /** The timeout that was given. */
  readonly timeout: Duration.Duration
  /** The last attempt that completed; none when none did (the first one outlasted the timeout). */
  readonly lastResult: Option.Option<NotYet<A>>
}> {
  override get message(): string {
    const last = Option.match(this.lastResult, {
      onNone: () => "no attempt completed",
      onSome: Either.match({
        onLeft: (notFound) => notFound.message,
        onRight: () => "a value the condition rejected"
      })
    })
    return `EventualConsistencyTimeout: not consistent within ${Duration.format(this.timeout)} (${this.attempts} attempt(s) in ${
      Duration.format(this.elapsed)
    }); last result: ${last}`
  }
}

/**
 * How to wait.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<A, R = never> {
  /** The condition the value must satisfy; left out, any value does (only `NotFound` is waited out). */
  readonly until?: Predicate.Predicate<A> | undefined
  /** The longest time to wait, in-flight attempt included: the result comes within it. */
  readonly timeout: Duration.DurationInput
  /**
   * When to try again, fed the last "not yet" result; {@link Retry.eventualConsistencySchedule}
   * unless set. A schedule that ends before `timeout` ends the wait with the same error.
   */
  readonly schedule?: Schedule.Schedule<unknown, NotYet<A>, R> | undefined
}

/**
 * {@link Options} whose `until` is a refinement, narrowing the value it lets through.
 *
 * @since 0.1.0
 * @category models
 */
export interface RefinedOptions<A, B extends A, R = never> extends Options<A, R> {
  readonly until: Predicate.Refinement<A, B>
}

const isNotFound = (error: unknown): error is NotFound => Predicate.isTagged(error, "NotFound")

const always = () => true

const run = <A, E, R, R2>(
  self: Effect.Effect<A, E, R>,
  options: Options<A, R2>
): Effect.Effect<A, Exclude<E, NotFound> | EventualConsistencyTimeout<A>, R | R2> =>
  Effect.gen(function*() {
    const timeout = Duration.decode(options.timeout)
    const until = options.until ?? always
    const driver = yield* Schedule.driver(options.schedule ?? (Retry.eventualConsistencySchedule as Schedule.Schedule<unknown, NotYet<A>, R2>))
    const start = yield* Clock.currentTimeMillis
    let attempts = 0
    let last: NotYet<A> | undefined

    const attempt: Effect.Effect<Option.Option<A>, Exclude<E, NotFound>, R> = Effect.suspend(() => {
      attempts++
      return self
    }).pipe(
      Effect.map((value) => {
        if (until(value)) return Option.some(value)
        last = Either.right(value)
        return Option.none()
      }),
      Effect.catchAll((error) => {
        if (!isNotFound(error)) return Effect.fail(error)
        last = Either.left(error)
        return Effect.succeedNone
      })
    ) as Effect.Effect<Option.Option<A>, Exclude<E, NotFound>, R>

    // none: the schedule ended
    const loop: Effect.Effect<Option.Option<A>, Exclude<E, NotFound>, R | R2> = Effect.flatMap(attempt, (found) =>
      Option.isSome(found)
        ? Effect.succeed(found)
        : Effect.matchEffect(driver.next(last!), {
          onFailure: () => Effect.succeedNone,
          onSuccess: () => loop
        }))

    const found = Option.flatten(yield* Effect.timeoutOption(loop, timeout))
    yield* Effect.annotateCurrentSpan("attempts", attempts)
    if (Option.isSome(found)) return found.value
    const now = yield* Clock.currentTimeMillis
    return yield* new EventualConsistencyTimeout<A>({
      attempts,
      elapsed: Duration.millis(now - start),
      timeout,
      lastResult: Option.fromNullable(last)
    })
  }).pipe(Effect.withSpan("camunda.eventually", { attributes: { "camunda.eventually.timeout": Duration.format(options.timeout) } }))

/**
 * Repeats `self` until its value satisfies `until` and succeeds with that value; a
 * `NotFound` failure counts as "not yet"; any other failure fails at once. Attempts
 * follow `schedule` on the Clock (`TestClock` drives it in tests); when `timeout` passes
 * first (an attempt in flight is interrupted) it fails with
 * {@link EventualConsistencyTimeout}. `NotFound` leaves the error channel.
 *
 * @example
 * ```ts
 * import { Eventually, type Keys, UserTask } from "effect-camunda"
 *
 * // until the assignment has reached secondary storage too
 * const assigned = (userTaskKey: Keys.UserTaskKey) =>
 *   UserTask.getUserTask({ userTaskKey }).pipe(
 *     Eventually.eventually({ until: (task) => task.assignee !== null, timeout: "5 seconds" })
 *   )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const eventually: {
  <A, B extends A, R2 = never>(
    options: RefinedOptions<NoInfer<A>, B, R2>
  ): <E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<B, Exclude<E, NotFound> | EventualConsistencyTimeout<A>, R | R2>
  <A, R2 = never>(
    options: Options<NoInfer<A>, R2>
  ): <E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, Exclude<E, NotFound> | EventualConsistencyTimeout<A>, R | R2>
  <A, E, R, B extends A, R2 = never>(
    self: Effect.Effect<A, E, R>,
    options: RefinedOptions<A, B, R2>
  ): Effect.Effect<B, Exclude<E, NotFound> | EventualConsistencyTimeout<A>, R | R2>
  <A, E, R, R2 = never>(
    self: Effect.Effect<A, E, R>,
    options: Options<A, R2>
  ): Effect.Effect<A, Exclude<E, NotFound> | EventualConsistencyTimeout<A>, R | R2>
} = /*#__PURE__*/ dual(2, run)
