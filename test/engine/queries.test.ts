/**
 * Test engine: incidents, variables (process and local scope), element instances,
 * topology, the clock, and operations it does not support.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import { Clock, Cluster, ElementInstance, Incident, Job, Keys, ProcessInstance, Resource, User, Variable } from "effect-camunda"
import { activate, activateOne, engineLayer, settle, start, stateOf, testBpmn } from "../support/engine.js"

const deploy = (...names: ReadonlyArray<string>) => Resource.createDeployment({ resources: names.map(testBpmn) })

describe("incidents", () => {
  it.effect("an incident is created when a job has no retries left, is found by search and get, and resolves", () =>
    Effect.gen(function*() {
      yield* deploy("service-task.bpmn", "straight-through.bpmn")
      const created = yield* start("service-task")
      yield* start("straight-through")
      const job = yield* activateOne("work")
      yield* Job.failJob({ jobKey: job.jobKey, retries: 0, errorMessage: "database down" })
      const all = yield* Incident.searchIncidents({})
      expect(all.items).toHaveLength(1)
      const incident = all.items[0]!
      expect(incident).toMatchObject({
        errorType: "JOB_NO_RETRIES",
        errorMessage: "database down",
        state: "ACTIVE",
        processInstanceKey: created.processInstanceKey,
        processDefinitionId: "service-task",
        elementId: "work",
        elementInstanceKey: job.elementInstanceKey,
        jobKey: job.jobKey,
        tenantId: "<default>"
      })
      expect(yield* Incident.getIncident({ incidentKey: incident.incidentKey })).toEqual(incident)
      const byType = yield* Incident.searchIncidents({ filter: { errorType: "JOB_NO_RETRIES", state: "ACTIVE" } })
      expect(byType.page.totalItems).toBe(1)
      const ofInstance = yield* ProcessInstance.searchProcessInstanceIncidents({ processInstanceKey: created.processInstanceKey })
      expect(ofInstance.items.map((i) => i.incidentKey)).toEqual([incident.incidentKey])
      const ofElement = yield* ElementInstance.searchElementInstanceIncidents({ elementInstanceKey: job.elementInstanceKey })
      expect(ofElement.items.map((i) => i.incidentKey)).toEqual([incident.incidentKey])
      const element = yield* ElementInstance.getElementInstance({ elementInstanceKey: job.elementInstanceKey })
      expect(element).toMatchObject({ hasIncident: true, incidentKey: incident.incidentKey })

      yield* Job.updateJob({ jobKey: job.jobKey, changeset: { retries: 1 } })
      yield* Incident.resolveIncident({ incidentKey: incident.incidentKey })
      expect((yield* Incident.getIncident({ incidentKey: incident.incidentKey })).state).toBe("RESOLVED")
      expect((yield* Incident.searchIncidents({ filter: { state: "ACTIVE" } })).items).toEqual([])
      expect((yield* ElementInstance.getElementInstance({ elementInstanceKey: job.elementInstanceKey })).hasIncident).toBe(false)
      expect((yield* activateOne("work")).jobKey).toBe(job.jobKey)
    }).pipe(Effect.provide(engineLayer())))

  it.effect("getIncident and resolveIncident answer 404 for an unknown key", () =>
    Effect.gen(function*() {
      const key = Keys.IncidentKey.make("5")
      expect((yield* Effect.flip(Incident.getIncident({ incidentKey: key })))._tag).toBe("NotFound")
      expect((yield* Effect.flip(Incident.resolveIncident({ incidentKey: key })))._tag).toBe("NotFound")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("cancelling an instance resolves its incidents", () =>
    Effect.gen(function*() {
      yield* deploy("exclusive-no-default.bpmn")
      const created = yield* start("exclusive-no-default")
      yield* ProcessInstance.cancelProcessInstance({ processInstanceKey: created.processInstanceKey })
      const incidents = yield* Incident.searchIncidents({ filter: { processInstanceKey: created.processInstanceKey } })
      expect(incidents.items.map((i) => i.state)).toEqual(["RESOLVED"])
      expect((yield* ProcessInstance.getProcessInstance({ processInstanceKey: created.processInstanceKey })).hasIncident).toBe(false)
    }).pipe(Effect.provide(engineLayer())))
})

describe("variables", () => {
  it.effect("searchVariables by processInstanceKey and name; getVariable; 404 for an unknown key", () =>
    Effect.gen(function*() {
      yield* deploy("service-task.bpmn")
      const one = yield* start("service-task", { orderId: "o-1", total: 12.5, lines: [{ sku: "a" }] })
      const two = yield* start("service-task", { orderId: "o-2" })
      const ofOne = yield* Variable.searchVariables({ filter: { processInstanceKey: one.processInstanceKey }, sort: [{ field: "name" }] })
      expect(ofOne.items.map((v) => [v.name, v.value, v.scopeKey])).toEqual([
        ["lines", "[{\"sku\":\"a\"}]", one.processInstanceKey],
        ["orderId", "\"o-1\"", one.processInstanceKey],
        ["total", "12.5", one.processInstanceKey]
      ])
      const orderIds = yield* Variable.searchVariables({ filter: { name: "orderId" }, sort: [{ field: "value", order: "DESC" }] })
      expect(orderIds.items.map((v) => [v.processInstanceKey, v.value])).toEqual([[two.processInstanceKey, "\"o-2\""], [one.processInstanceKey, "\"o-1\""]])
      const byValue = yield* Variable.searchVariables({ filter: { name: "orderId", value: "\"o-2\"" } })
      expect(byValue.items.map((v) => v.processInstanceKey)).toEqual([two.processInstanceKey])
      const variable = yield* Variable.getVariable({ variableKey: orderIds.items[0]!.variableKey })
      expect(variable).toMatchObject({ name: "orderId", value: "\"o-2\"", processInstanceKey: two.processInstanceKey, tenantId: "<default>" })
      // an update keeps the variable's key
      const job = yield* activateOne("work")
      yield* Job.completeJob({ jobKey: job.jobKey, variables: { orderId: "o-1b" } })
      const updated = yield* Variable.searchVariables({ filter: { processInstanceKey: one.processInstanceKey, name: "orderId" } })
      expect(updated.items.map((v) => [v.variableKey, v.value])).toEqual([[ofOne.items[1]!.variableKey, "\"o-1b\""]])
      const missing = yield* Effect.flip(Variable.getVariable({ variableKey: Keys.VariableKey.make("9") }))
      expect(missing._tag).toBe("NotFound")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("local scope: input mappings create local variables, output mappings decide what reaches the process", () =>
    Effect.gen(function*() {
      yield* deploy("io-mapping.bpmn")
      const created = yield* start("io-mapping", { order: { total: 30 } })
      const job = yield* activateOne("price")
      expect(job.variables).toEqual({ order: { total: 30 }, amount: 30, currency: "EUR" })
      const local = yield* Variable.searchVariables({ filter: { scopeKey: job.elementInstanceKey }, sort: [{ field: "name" }] })
      expect(local.items.map((v) => [v.name, v.value])).toEqual([["amount", "30"], ["currency", "\"EUR\""]])
      yield* Job.completeJob({ jobKey: job.jobKey, variables: { result: 21 } })
      expect(yield* stateOf(created.processInstanceKey)).toBe("COMPLETED")
      const processScope = yield* Variable.searchVariables({
        filter: { scopeKey: created.processInstanceKey },
        sort: [{ field: "name" }]
      })
      expect(processScope.items.map((v) => [v.name, v.value])).toEqual([
        ["doubled", "42"],
        ["order", "{\"total\":30,\"currency\":\"EUR\"}"]
      ])
      // the job's result stayed local because the task has output mappings
      const result = yield* Variable.searchVariables({ filter: { name: "result" } })
      expect(result.items.map((v) => v.scopeKey)).toEqual([job.elementInstanceKey])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("createElementInstanceVariables: local sets the element's scope, otherwise variables propagate", () =>
    Effect.gen(function*() {
      yield* deploy("io-mapping.bpmn")
      const created = yield* start("io-mapping", { order: { total: 1 } })
      const [job] = yield* activate("price")
      const elementInstanceKey = job!.elementInstanceKey
      yield* ElementInstance.createElementInstanceVariables({ elementInstanceKey, variables: { note: "local" }, local: true })
      // `amount` exists locally: it is updated there; `fresh` is created in the process scope
      yield* ElementInstance.createElementInstanceVariables({ elementInstanceKey, variables: { amount: 2, fresh: true } })
      const variables = yield* Variable.searchVariables({ filter: { processInstanceKey: created.processInstanceKey }, sort: [{ field: "name" }] })
      expect(variables.items.map((v) => [v.name, v.value, v.scopeKey === elementInstanceKey ? "local" : "process"])).toEqual([
        ["amount", "2", "local"],
        ["currency", "\"EUR\"", "local"],
        ["fresh", "true", "process"],
        ["note", "\"local\"", "local"],
        ["order", "{\"total\":1}", "process"]
      ])
      const unknown = yield* Effect.flip(ElementInstance.createElementInstanceVariables({
        elementInstanceKey: Keys.ElementInstanceKey.make("3"),
        variables: { a: 1 }
      }))
      // createElementInstanceVariables declares no 404; a real cluster answers NOT_FOUND all the same
      expect(unknown._tag === "UnexpectedStatus" && unknown.status).toBe(404)
    }).pipe(Effect.provide(engineLayer())))
})

describe("element instances", () => {
  it.effect("searchElementInstances by processInstanceKey, type and state; get; 404 for an unknown key", () =>
    Effect.gen(function*() {
      yield* deploy("service-task.bpmn")
      const created = yield* start("service-task")
      const elements = yield* ElementInstance.searchElementInstances({ filter: { processInstanceKey: created.processInstanceKey } })
      expect(elements.items.map((e) => [e.elementId, e.type, e.state])).toEqual([
        ["start", "START_EVENT", "COMPLETED"],
        ["work", "SERVICE_TASK", "ACTIVE"]
      ])
      const active = yield* ElementInstance.searchElementInstances({ filter: { state: "ACTIVE", type: "SERVICE_TASK" } })
      expect(active.items.map((e) => e.elementName)).toEqual(["Do the work"])
      const got = yield* ElementInstance.getElementInstance({ elementInstanceKey: active.items[0]!.elementInstanceKey })
      expect(got).toMatchObject({ processInstanceKey: created.processInstanceKey, processDefinitionId: "service-task", endDate: null })
      const scoped = yield* ElementInstance.searchElementInstances({ filter: { elementInstanceScopeKey: created.processInstanceKey } })
      expect(scoped.page.totalItems).toBe(2)
      const missing = yield* Effect.flip(ElementInstance.getElementInstance({ elementInstanceKey: Keys.ElementInstanceKey.make("3") }))
      expect(missing._tag).toBe("NotFound")
    }).pipe(Effect.provide(engineLayer())))
})

describe("cluster", () => {
  it.effect("getTopology describes a one-broker cluster", () =>
    Effect.gen(function*() {
      const topology = yield* Cluster.getTopology()
      expect(topology).toMatchObject({ clusterSize: 1, partitionsCount: 1, replicationFactor: 1 })
      expect(topology.brokers[0]!.partitions).toEqual([{ partitionId: 1, role: "leader", health: "healthy" }])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("an unsupported operation answers 501 (UnexpectedStatus) with a ProblemDetail", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(User.createUser({ username: "demo", password: "demo" }))
      expect(error._tag).toBe("UnexpectedStatus")
      if (error._tag !== "UnexpectedStatus") return
      expect(error.status).toBe(501)
      expect(error.problem?.title).toBe("NOT_SUPPORTED")
      expect(error.problem?.detail).toBe("createUser is not supported by the test engine")
    }).pipe(Effect.provide(engineLayer())))
})

describe("clock", () => {
  it.effect("request timeouts run on the Clock even while the engine's clock is pinned", () =>
    Effect.gen(function*() {
      yield* deploy("service-task.bpmn")
      yield* Clock.pinClock({ timestamp: Date.parse("2030-01-01T00:00:00.000Z") })
      const poll = yield* Effect.fork(Job.activateJobs({ type: "nothing", timeout: 1000, maxJobsToActivate: 1, requestTimeout: 5_000 }))
      const awaiting = yield* Effect.fork(ProcessInstance.createProcessInstance({
        processDefinitionId: Keys.ProcessDefinitionId.make("service-task"),
        awaitCompletion: true,
        requestTimeout: 5_000
      }))
      yield* Effect.repeatN(settle, 5)
      yield* TestClock.adjust("5 seconds")
      expect((yield* Fiber.join(poll)).jobs).toEqual([])
      expect((yield* Effect.flip(Fiber.join(awaiting)))._tag).toBe("GatewayTimeout")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("pinClock makes engine time jump (a timer due before fires); resetClock goes back to the Clock", () =>
    Effect.gen(function*() {
      yield* deploy("timer.bpmn", "straight-through.bpmn")
      const waiting = yield* start("timer")
      expect(yield* activate("after-timer")).toEqual([])
      const pinned = Date.parse("2030-06-01T08:00:00.000Z")
      yield* Clock.pinClock({ timestamp: pinned })
      const job = yield* activateOne("after-timer")
      expect(job.processInstanceKey).toBe(waiting.processInstanceKey)
      const timer = yield* ElementInstance.searchElementInstances({
        filter: { processInstanceKey: waiting.processInstanceKey, elementId: Keys.ElementId.make("wait") }
      })
      // the timer fired at its due time
      expect(timer.items[0]!.endDate).toBe("1970-01-01T00:10:00.000Z")
      // pinned time stands still, whatever the Clock does
      yield* TestClock.adjust("1 hour")
      const later = yield* start("straight-through")
      expect((yield* ProcessInstance.getProcessInstance({ processInstanceKey: later.processInstanceKey })).startDate)
        .toBe("2030-06-01T08:00:00.000Z")
      yield* Clock.resetClock()
      const after = yield* start("straight-through")
      expect((yield* ProcessInstance.getProcessInstance({ processInstanceKey: after.processInstanceKey })).startDate)
        .toBe("1970-01-01T01:00:00.000Z")
    }).pipe(Effect.provide(engineLayer())))
})
