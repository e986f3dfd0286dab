/**
 * Timeouts: an attempt that gets no answer fails with a typed TransportError on the Clock,
 * and its request is interrupted (aborted); long polls get their own time plus a margin.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { CamundaClient, Job, Keys, UserTask } from "effect-camunda"

/** A server that never answers; counts the requests that were aborted. */
const silent = () => {
  const state = { started: 0, aborted: 0 }
  const http = HttpClient.make(() =>
    Effect.suspend(() => {
      state.started++
      return Effect.never as Effect.Effect<HttpClientResponse.HttpClientResponse>
    }).pipe(Effect.onInterrupt(() => Effect.sync(() => state.aborted++)))
  )
  const layer = CamundaClient.layer({ restAddress: "http://camunda.test", requestTimeout: "30 seconds" }).pipe(
    Layer.provide(Layer.succeed(HttpClient.HttpClient, http))
  )
  return { state, layer }
}

describe("timeouts", () => {
  it.effect("no answer within requestTimeout: TransportError with reason Timeout, request aborted", () => {
    const { layer, state } = silent()
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.flip(UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") })))
      yield* TestClock.adjust("29 seconds")
      expect((yield* Fiber.poll(fiber))._tag).toBe("None")
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      expect(error).toMatchObject({ _tag: "TransportError", reason: "Timeout", operationId: "completeUserTask" })
      expect(state).toEqual({ started: 1, aborted: 1 })
    }).pipe(Effect.provide(layer))
  })

  it.effect("a long poll may take its own requestTimeout plus 10 s", () => {
    const { layer } = silent()
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(Effect.flip(Job.activateJobs({ type: "t", timeout: 1000, maxJobsToActivate: 1, requestTimeout: 60_000 })))
      yield* TestClock.adjust("69 seconds")
      expect((yield* Fiber.poll(fiber))._tag).toBe("None")
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(fiber)).toMatchObject({ _tag: "TransportError", reason: "Timeout" })
    }).pipe(Effect.provide(layer))
  })

  it.effect("requestTimeout: Duration.infinity sets no timer", () => {
    const { state } = silent()
    const http = HttpClient.make(() => Effect.never as Effect.Effect<HttpClientResponse.HttpClientResponse>)
    const layer = CamundaClient.layer({ restAddress: "http://camunda.test", requestTimeout: Duration.infinity }).pipe(
      Layer.provide(Layer.succeed(HttpClient.HttpClient, http))
    )
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") }))
      yield* TestClock.adjust("24 hours")
      expect((yield* Fiber.poll(fiber))._tag).toBe("None")
      yield* Fiber.interrupt(fiber)
      expect(state.started).toBe(0)
    }).pipe(Effect.provide(layer))
  })

  it.effect("interrupting an operation aborts its request", () => {
    const { layer, state } = silent()
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") }))
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(fiber)
      expect(state).toEqual({ started: 1, aborted: 1 })
    }).pipe(Effect.provide(layer))
  })
})
