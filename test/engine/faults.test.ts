/**
 * Test engine: injected faults through the `TestEngine` service.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { ProcessInstance, Resource, UserTask } from "effect-camunda"
import * as TestEngine from "effect-camunda/testkit"
import { bpmnFile, engineLayer, openTaskOf, start, stateOf, testBpmn } from "../support/engine.js"

describe("fault injection", () => {
  it.effect("failNext answers the next requests of an operation with a status, then normally", () =>
    Effect.gen(function*() {
      const engine = yield* TestEngine.TestEngine
      yield* Resource.createDeployment({ resources: [bpmnFile("order.bpmn")] })
      const created = yield* start("order-approval", { orderId: "o-1" })
      const task = yield* openTaskOf(created.processInstanceKey)
      yield* engine.failNext("completeUserTask", 2, 503)
      for (let attempt = 0; attempt < 2; attempt++) {
        const error = yield* Effect.flip(UserTask.completeUserTask({ userTaskKey: task.userTaskKey, variables: { approved: false } }))
        expect(error._tag).toBe("ServiceUnavailable")
        if (error._tag === "ServiceUnavailable") {
          expect(error.status).toBe(503)
          expect(error.title).toBe("RESOURCE_EXHAUSTED")
        }
        // the faulted request did not reach the engine
        expect((yield* UserTask.getUserTask({ userTaskKey: task.userTaskKey })).state).toBe("CREATED")
      }
      yield* UserTask.completeUserTask({ userTaskKey: task.userTaskKey, variables: { approved: false } })
      expect(yield* stateOf(created.processInstanceKey)).toBe("COMPLETED")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("failNext with another status gives that status's error", () =>
    Effect.gen(function*() {
      const engine = yield* TestEngine.TestEngine
      yield* engine.failNext("createDeployment", 1, 400)
      const error = yield* Effect.flip(Resource.createDeployment({ resources: [testBpmn("straight-through.bpmn")] }))
      expect(error._tag).toBe("BadRequest")
      yield* Resource.createDeployment({ resources: [testBpmn("straight-through.bpmn")] })
    }).pipe(Effect.provide(engineLayer())))

  it.effect("setCapacity(0): commands get 503 RESOURCE_EXHAUSTED while searches still work", () =>
    Effect.gen(function*() {
      const engine = yield* TestEngine.TestEngine
      yield* Resource.createDeployment({ resources: [testBpmn("straight-through.bpmn")] })
      yield* start("straight-through")
      yield* engine.setCapacity(0)
      const refused = yield* Effect.flip(start("straight-through"))
      expect(refused._tag).toBe("ServiceUnavailable")
      if (refused._tag === "ServiceUnavailable") expect(refused.title).toBe("RESOURCE_EXHAUSTED")
      const deployment = yield* Effect.flip(Resource.createDeployment({ resources: [testBpmn("timer.bpmn")] }))
      expect(deployment._tag).toBe("ServiceUnavailable")
      const instances = yield* ProcessInstance.searchProcessInstances({})
      expect(instances.page.totalItems).toBe(1)
      yield* engine.setCapacity(undefined)
      yield* start("straight-through")
      expect((yield* ProcessInstance.searchProcessInstances({})).page.totalItems).toBe(2)
    }).pipe(Effect.provide(engineLayer())))

  it.effect("a capacity in the layer options applies from the start", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Resource.createDeployment({ resources: [testBpmn("straight-through.bpmn")] }))
      expect(error._tag).toBe("ServiceUnavailable")
    }).pipe(Effect.provide(engineLayer({ capacity: 0 }))))
})
