/**
 * `Eventually.eventually` on the embedded engine, timed by TestClock: data that appears,
 * data that never does, 404 as "not yet", other failures at once.
 */
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { Eventually, Keys, Models, Resource, UserTask } from "effect-camunda"
import type { BadRequest, NotFound } from "effect-camunda/CamundaError"
import * as TestEngine from "effect-camunda/testkit"
import { bpmn, engineLayer, openTaskOf, settle, start, userTaskProcess } from "./support/engine.js"

const deploy = Resource.createDeployment({ resources: [bpmn("inbox.bpmn", userTaskProcess("inbox"))] })

/** Runs `effect` in the background, letting its requests finish before each TestClock step. */
const drive = <A, E, R>(effect: Effect.Effect<A, E, R>, step: Duration.DurationInput = "50 millis", maxSteps = 1000) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.either(effect))
    for (let i = 0; i < maxSteps; i++) {
      yield* Effect.repeatN(settle, 5)
      if (Option.isSome(yield* Fiber.poll(fiber))) break
      yield* TestClock.adjust(step)
    }
    return yield* Fiber.join(fiber)
  })

/** `effect`, recording the Clock time of every attempt. */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  const times: Array<number> = []
  return { times, effect: Effect.zipRight(Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => times.push(now))), effect) }
}

const openTasks = UserTask.searchUserTasks({ filter: { state: "CREATED" } })

describe("Eventually.eventually", () => {
  it.effect("succeeds once the data appears, polling 100 ms, 200, 400, 800, then every second", () =>
    Effect.gen(function*() {
      yield* deploy
      // the task appears at 2 s
      yield* Effect.fork(Effect.zipRight(Effect.sleep("2 seconds"), start("inbox")))
      const read = timed(openTasks)
      const result = yield* drive(
        Eventually.eventually(read.effect, { until: (found) => found.items.length > 0, timeout: "10 seconds" })
      )
      expect(Either.isRight(result)).toBe(true)
      expect(Either.getOrThrow(result).items).toHaveLength(1)
      expect(read.times).toEqual([0, 100, 300, 700, 1500, 2500])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("a 404 is \"not yet\": a get succeeds once the record is found", () =>
    Effect.gen(function*() {
      yield* deploy
      const instance = yield* start("inbox")
      const task = yield* openTaskOf(instance.processInstanceKey)
      const engine = yield* TestEngine.TestEngine
      yield* engine.failNext("getUserTask", 3, 404)
      const read = timed(UserTask.getUserTask({ userTaskKey: task.userTaskKey }))
      const found = yield* drive(Eventually.eventually(read.effect, { timeout: "5 seconds" }))
      expect(Either.getOrThrow(found).userTaskKey).toBe(task.userTaskKey)
      expect(read.times).toEqual([0, 100, 300, 700])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("times out with EventualConsistencyTimeout: attempts, elapsed time, the last value", () =>
    Effect.gen(function*() {
      yield* deploy
      const read = timed(openTasks)
      const result = yield* drive(
        read.effect.pipe(
          Eventually.eventually({ until: (found) => found.items.length > 0, timeout: "5 seconds" })
        )
      )
      const error = Either.getLeft(result).pipe(Option.getOrThrow)
      expect(error._tag).toBe("EventualConsistencyTimeout")
      if (error._tag !== "EventualConsistencyTimeout") return
      // 0, 100, 300, 700, 1500, 2500, 3500, 4500; the next would be at 5500
      expect(read.times).toEqual([0, 100, 300, 700, 1500, 2500, 3500, 4500])
      expect(error.attempts).toBe(8)
      expect(Duration.toMillis(error.elapsed)).toBe(5000)
      expect(Duration.toMillis(error.timeout)).toBe(5000)
      const last = Option.getOrThrow(error.lastResult)
      expect(Either.isRight(last) && last.right.items).toEqual([])
      expect(error.message).toBe(
        "EventualConsistencyTimeout: not consistent within 5s (8 attempt(s) in 5s); last result: a value the condition rejected"
      )
      expect(yield* Clock.currentTimeMillis).toBe(5000)
    }).pipe(Effect.provide(engineLayer())))

  it.effect("a record that never appears: the last result is the NotFound", () =>
    Effect.gen(function*() {
      const result = yield* drive(
        Eventually.eventually(UserTask.getUserTask({ userTaskKey: Keys.UserTaskKey.make("404") }), { timeout: "2 seconds" })
      )
      const error = Option.getOrThrow(Either.getLeft(result))
      if (error._tag !== "EventualConsistencyTimeout") return expect.unreachable(error.message)
      expect(error.attempts).toBe(5)
      expect(Duration.toMillis(error.elapsed)).toBe(2000)
      const last = Option.getOrThrow(error.lastResult)
      expect(Either.isLeft(last) && last.left._tag).toBe("NotFound")
      expect(error.message).toMatch(/^EventualConsistencyTimeout: not consistent within 2s \(5 attempt\(s\) in 2s\); last result: NotFound \[getUserTask\]: /)
    }).pipe(Effect.provide(engineLayer())))

  it.effect("any other failure fails at once, without waiting", () =>
    Effect.gen(function*() {
      yield* deploy
      const instance = yield* start("inbox")
      const task = yield* openTaskOf(instance.processInstanceKey)
      const engine = yield* TestEngine.TestEngine
      yield* engine.failNext("getUserTask", 1, 404)
      yield* engine.failNext("getUserTask", 1, 400)
      const read = timed(UserTask.getUserTask({ userTaskKey: task.userTaskKey }))
      const result = yield* drive(Eventually.eventually(read.effect, { timeout: "5 seconds" }))
      expect(Either.getLeft(result).pipe(Option.map((error) => error._tag))).toEqual(Option.some("BadRequest"))
      // the 404 waited 100 ms, the 400 ended it
      expect(read.times).toEqual([0, 100])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("the timeout bounds an attempt in flight: it is interrupted, no result to report", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(Eventually.eventually(Effect.sleep("1 minute"), { timeout: "3 seconds" }))
      yield* TestClock.adjust("3 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error.attempts).toBe(1)
      expect(Duration.toMillis(error.elapsed)).toBe(3000)
      expect(error.lastResult).toEqual(Option.none())
      expect(error.message).toContain("last result: no attempt completed")
    }))

  it.effect("a schedule of your own; one that ends gives up early with the same error", () =>
    Effect.gen(function*() {
      let calls = 0
      const counter = Effect.sync(() => ++calls)
      const fiber = yield* Effect.fork(
        Eventually.eventually(counter, { until: (n) => n === 4, timeout: "1 minute", schedule: Schedule.spaced("250 millis") })
      )
      yield* TestClock.adjust("750 millis")
      expect(yield* Fiber.join(fiber)).toBe(4)

      const never = timed(Effect.succeed(0))
      const ended = yield* Effect.fork(
        Eventually.eventually(never.effect, { until: (n) => n > 0, timeout: "1 minute", schedule: Schedule.recurs(2) })
      )
      const error = yield* Effect.flip(Fiber.join(ended))
      expect(error.attempts).toBe(3)
      expect(Duration.toMillis(error.elapsed)).toBe(0)
      expect(error.lastResult).toEqual(Option.some(Either.right(0)))
    }))

  it("types: NotFound leaves the error channel, the timeout joins it; a refinement narrows", () => {
    const read = UserTask.getUserTask({ userTaskKey: Keys.UserTaskKey.make("1") })
    const waited = Eventually.eventually(read, { timeout: "1 second" })
    type E = Effect.Effect.Error<typeof waited>
    expectTypeOf<Extract<E, NotFound>>().toBeNever()
    expectTypeOf<Extract<E, BadRequest>>().toEqualTypeOf<BadRequest>()
    expectTypeOf<Extract<E, Eventually.EventualConsistencyTimeout<Models.UserTaskResult>>>().toEqualTypeOf<
      Eventually.EventualConsistencyTimeout<Models.UserTaskResult>
    >()
    const assigned = read.pipe(
      Eventually.eventually({
        until: (task): task is Models.UserTaskResult & { readonly assignee: string } => task.assignee !== null,
        timeout: "1 second"
      })
    )
    expectTypeOf<Effect.Effect.Success<typeof assigned>["assignee"]>().toEqualTypeOf<string>()
  })
})
