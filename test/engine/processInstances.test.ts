/**
 * Test engine: creating, awaiting, cancelling, getting and searching process instances.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import { Keys, ProcessInstance, Resource } from "effect-camunda"
import { activate, activateOne, bpmn, completeOne, eventually, engineLayer, processXml, start, stateOf, testBpmn } from "../support/engine.js"

const id = Keys.ProcessDefinitionId.make

describe("process instances", () => {
  it.effect("creates by id (latest version) and by key, with variables", () =>
    Effect.gen(function*() {
      const v1 = (yield* Resource.createDeployment({ resources: [testBpmn("service-task.bpmn")] })).deployments[0]!.processDefinition!
      const changed = bpmn("service-task.bpmn", (yield* Effect.promise(() => testBpmn("service-task.bpmn").text())).replace("Do the work", "Do it"))
      const v2 = (yield* Resource.createDeployment({ resources: [changed] })).deployments[0]!.processDefinition!
      expect(v2.processDefinitionVersion).toBe(2)

      const latest = yield* ProcessInstance.createProcessInstance({ processDefinitionId: id("service-task"), variables: { orderId: "o-1", total: 42 } })
      expect(latest).toMatchObject({ processDefinitionKey: v2.processDefinitionKey, processDefinitionVersion: 2, processDefinitionId: "service-task", tenantId: "<default>" })
      const pinned = yield* ProcessInstance.createProcessInstance({ processDefinitionId: id("service-task"), processDefinitionVersion: 1 })
      expect(pinned.processDefinitionKey).toBe(v1.processDefinitionKey)
      const byKey = yield* ProcessInstance.createProcessInstance({ processDefinitionKey: v1.processDefinitionKey, variables: { orderId: "o-2" } })
      expect(byKey).toMatchObject({ processDefinitionKey: v1.processDefinitionKey, processDefinitionVersion: 1 })

      const job = yield* activateOne("work")
      expect(job.processInstanceKey).toBe(latest.processInstanceKey)
      expect(job.variables).toEqual({ orderId: "o-1", total: 42 })
      const instance = yield* ProcessInstance.getProcessInstance({ processInstanceKey: byKey.processInstanceKey })
      expect(instance).toMatchObject({ state: "ACTIVE", processDefinitionVersion: 1, hasIncident: false, endDate: null })
    }).pipe(Effect.provide(engineLayer())))

  it.effect("creating an instance of an unknown process is refused with 404", () =>
    Effect.gen(function*() {
      // createProcessInstance declares no 404, so the client reports the status as unexpected
      const error = yield* Effect.flip(start("nowhere"))
      expect(error._tag).toBe("UnexpectedStatus")
      if (error._tag === "UnexpectedStatus") {
        expect(error.status).toBe(404)
        expect(error.problem?.detail).toContain("nowhere")
      }
    }).pipe(Effect.provide(engineLayer())))

  it.effect("cancel terminates the instance; cancelling again answers 404", () =>
    Effect.gen(function*() {
      yield* Resource.createDeployment({ resources: [testBpmn("service-task.bpmn")] })
      const created = yield* start("service-task")
      yield* ProcessInstance.cancelProcessInstance({ processInstanceKey: created.processInstanceKey })
      const instance = yield* ProcessInstance.getProcessInstance({ processInstanceKey: created.processInstanceKey })
      expect(instance.state).toBe("TERMINATED")
      expect(instance.endDate).not.toBeNull()
      const again = yield* Effect.flip(ProcessInstance.cancelProcessInstance({ processInstanceKey: created.processInstanceKey }))
      expect(again._tag).toBe("NotFound")
      const unknown = yield* Effect.flip(ProcessInstance.cancelProcessInstance({ processInstanceKey: Keys.ProcessInstanceKey.make("42") }))
      expect(unknown._tag).toBe("NotFound")
      // its job is gone
      expect(yield* activate("work")).toEqual([])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("get answers 404 for an unknown key", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ProcessInstance.getProcessInstance({ processInstanceKey: Keys.ProcessInstanceKey.make("42") }))
      expect(error._tag).toBe("NotFound")
      if (error._tag === "NotFound") expect(error.status).toBe(404)
    }).pipe(Effect.provide(engineLayer())))

  it.effect("search filters by state, definition and key, and sorts", () =>
    Effect.gen(function*() {
      yield* Resource.createDeployment({ resources: [testBpmn("service-task.bpmn"), testBpmn("straight-through.bpmn")] })
      const a = yield* start("service-task")
      const b = yield* start("service-task")
      const c = yield* start("straight-through")
      yield* ProcessInstance.cancelProcessInstance({ processInstanceKey: b.processInstanceKey })
      const active = yield* ProcessInstance.searchProcessInstances({ filter: { state: "ACTIVE" } })
      expect(active.items.map((i) => i.processInstanceKey)).toEqual([a.processInstanceKey])
      const completed = yield* ProcessInstance.searchProcessInstances({ filter: { state: "COMPLETED" } })
      expect(completed.items.map((i) => i.processInstanceKey)).toEqual([c.processInstanceKey])
      const ofService = yield* ProcessInstance.searchProcessInstances({
        filter: { processDefinitionId: id("service-task") },
        sort: [{ field: "processInstanceKey", order: "DESC" }]
      })
      expect(ofService.items.map((i) => i.processInstanceKey)).toEqual([b.processInstanceKey, a.processInstanceKey])
      const notActive = yield* ProcessInstance.searchProcessInstances({ filter: { state: { $neq: "ACTIVE" } }, sort: [{ field: "state" }] })
      expect(notActive.items.map((i) => i.state)).toEqual(["COMPLETED", "TERMINATED"])
      const byVariable = yield* ProcessInstance.searchProcessInstances({ filter: { processInstanceKey: { $in: [a.processInstanceKey, c.processInstanceKey] } } })
      expect(byVariable.page.totalItems).toBe(2)
    }).pipe(Effect.provide(engineLayer())))

  it.effect("search filters by variables", () =>
    Effect.gen(function*() {
      yield* Resource.createDeployment({ resources: [testBpmn("service-task.bpmn")] })
      const a = yield* start("service-task", { customer: "ada", total: 10 })
      yield* start("service-task", { customer: "bob", total: 10 })
      const result = yield* ProcessInstance.searchProcessInstances({ filter: { variables: [{ name: "customer", value: "\"ada\"" }] } })
      expect(result.items.map((i) => i.processInstanceKey)).toEqual([a.processInstanceKey])
      const both = yield* ProcessInstance.searchProcessInstances({ filter: { variables: [{ name: "total", value: "10" }] } })
      expect(both.page.totalItems).toBe(2)
    }).pipe(Effect.provide(engineLayer())))

  it.effect("awaitCompletion returns the final variables of a process that completes right away", () =>
    Effect.gen(function*() {
      yield* Resource.createDeployment({ resources: [testBpmn("straight-through.bpmn")] })
      const result = yield* ProcessInstance.createProcessInstance({
        processDefinitionId: id("straight-through"),
        variables: { a: 1, b: "two" },
        awaitCompletion: true
      })
      expect(result.variables).toEqual({ a: 1, b: "two" })
      const fetched = yield* ProcessInstance.createProcessInstance({
        processDefinitionId: id("straight-through"),
        variables: { a: 1, b: "two" },
        awaitCompletion: true,
        fetchVariables: ["b"]
      })
      expect(fetched.variables).toEqual({ b: "two" })
      expect(yield* stateOf(fetched.processInstanceKey)).toBe("COMPLETED")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("awaitCompletion waits until the job is completed and returns the merged variables", () =>
    Effect.gen(function*() {
      yield* Resource.createDeployment({ resources: [testBpmn("service-task.bpmn")] })
      const awaiting = yield* Effect.fork(ProcessInstance.createProcessInstance({
        processDefinitionId: id("service-task"),
        variables: { orderId: "o-1" },
        awaitCompletion: true,
        requestTimeout: 60_000
      }))
      yield* eventually(completeOne("work", { shipped: true }))
      const result = yield* Fiber.join(awaiting)
      expect(result.variables).toEqual({ orderId: "o-1", shipped: true })
    }).pipe(Effect.provide(engineLayer())))

  it.effect("awaitCompletion on a waiting process times out with 504 GatewayTimeout; the instance keeps running", () =>
    Effect.gen(function*() {
      yield* Resource.createDeployment({ resources: [testBpmn("service-task.bpmn")] })
      const awaiting = yield* Effect.fork(ProcessInstance.createProcessInstance({
        processDefinitionId: id("service-task"),
        awaitCompletion: true,
        requestTimeout: 5_000
      }))
      yield* TestClock.adjust("4 seconds")
      expect(awaiting.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 second")
      const error = yield* Effect.flip(Fiber.join(awaiting))
      expect(error._tag).toBe("GatewayTimeout")
      if (error._tag === "GatewayTimeout") {
        expect(error.status).toBe(504)
        expect(error.title).toBe("DEADLINE_EXCEEDED")
      }
      const instances = yield* ProcessInstance.searchProcessInstances({ filter: { processDefinitionId: id("service-task") } })
      expect(instances.items.map((i) => i.state)).toEqual(["ACTIVE"])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("a process without a none start event cannot be created directly", () =>
    Effect.gen(function*() {
      yield* Resource.createDeployment({ resources: [testBpmn("message-start.bpmn")] })
      const error = yield* Effect.flip(start("message-start"))
      expect(error._tag).toBe("BadRequest")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("an unknown element in the processXml helper is refused", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Resource.createDeployment({
        resources: [bpmn("typo.bpmn", processXml("typo", `<bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t" /><bpmn:serviceTsk id="t" />`))]
      }))
      expect(error._tag === "BadRequest" && error.detail).toContain("unknown type <bpmn:ServiceTsk>")
    }).pipe(Effect.provide(engineLayer())))
})
