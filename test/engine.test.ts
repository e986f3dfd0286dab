/**
 * The embedded engine, through the public client only. More in test/engine/*.test.ts.
 *
 * Known limits of the test engine (for docs/test-engine.md):
 * - Elements: none start events, message start events, none end events, service tasks
 *   (job workers), user tasks (`zeebe:userTask` only; job-worker user tasks are refused),
 *   exclusive and parallel gateways, intermediate message and timer catch events
 *   (`timeDuration` or `timeDate`; no cycles), interrupting error boundary events on
 *   service tasks, and pass-through elements (undefined and manual tasks, none intermediate
 *   throw events). Everything else is refused at deployment with 400: sub-processes,
 *   call activities, multi-instance, event-based gateways, inclusive gateways, signals,
 *   escalations, compensation, conditional events, timer or message boundary events,
 *   error end events, business rule tasks (DMN), script/send/receive tasks, links.
 * - Variables: a process scope and one local scope per element instance (input/output
 *   mappings, `local` variable updates, `failJob` variables); no nested scopes.
 * - Resources: BPMN only (no DMN, forms or RPA); `createDeployment` is atomic.
 * - Messages: correlated at most once per process (BPMN id), buffered for their TTL;
 *   message start events do not read buffered messages; no correlation-key uniqueness
 *   check for message start events.
 * - Searches run on live state (no exporter lag, no eventual consistency); filters on
 *   fields the records do not carry answer 400 instead of being ignored.
 * - Time: Effect's `Clock` (TestClock in tests), or the pinned clock; due timers, job
 *   timeouts and back-offs are processed when a request arrives or a long poll wakes.
 * - No authentication or authorization (OAuth, Basic), no multi-partition behaviour, no
 *   user task listeners, execution listeners, forms, batch operations, process instance
 *   migration or modification, identity or tenant management; such operations answer 501.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import { ElementInstance, Job, Message, ProcessInstance, UserTask, Variable } from "effect-camunda"
import { activate, activateOne, bpmnFile, completeOne, deployAndStart, engineLayer, openTaskOf, stateOf, testBpmn } from "./support/engine.js"

describe("test engine", () => {
  it.effect("runs the order process: user task, gateway, service task, end", () =>
    Effect.gen(function*() {
      const created = yield* deployAndStart([bpmnFile("order.bpmn")], "order-approval", { orderId: "o-1" })
      const tasks = yield* UserTask.searchUserTasks({ filter: { processInstanceKey: created.processInstanceKey, state: "CREATED" } })
      expect(tasks.items).toHaveLength(1)
      const task = tasks.items[0]!
      expect(task).toMatchObject({ elementId: "review", name: "Review order", candidateGroups: ["sales"], priority: 60 })
      yield* UserTask.assignUserTask({ userTaskKey: task.userTaskKey, assignee: "demo" })
      yield* UserTask.completeUserTask({ userTaskKey: task.userTaskKey, variables: { approved: true } })
      const { jobs } = yield* Job.activateJobs({ type: "ship-order", timeout: 30_000, maxJobsToActivate: 5, worker: "w" })
      expect(jobs).toHaveLength(1)
      expect(jobs[0]!.variables).toEqual({ orderId: "o-1", approved: true })
      expect(jobs[0]!.customHeaders).toEqual({ carrier: "post" })
      yield* Job.completeJob({ jobKey: jobs[0]!.jobKey, variables: { shipped: true } })
      const instance = yield* ProcessInstance.getProcessInstance({ processInstanceKey: created.processInstanceKey })
      expect(instance.state).toBe("COMPLETED")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("drives one process through every supported element to completion", () =>
    Effect.gen(function*() {
      const created = yield* deployAndStart([testBpmn("everything.bpmn")], "everything", { orderId: "o-42" })
      const key = created.processInstanceKey
      // service task
      yield* completeOne("validate", { valid: true })
      // user task
      const review = yield* openTaskOf(key)
      expect(review).toMatchObject({ elementId: "review", candidateGroups: ["ops"] })
      yield* UserTask.completeUserTask({ userTaskKey: review.userTaskKey, variables: { approved: true } })
      // exclusive gateway → parallel fork: the message catch event and the timer wait side by side
      const waiting = yield* ElementInstance.searchElementInstances({ filter: { processInstanceKey: key, state: "ACTIVE" } })
      expect(waiting.items.map((e) => e.elementId).sort()).toEqual(["cooldown", "payment"])
      // message catch event, correlated on =orderId
      yield* Message.publishMessage({ name: "payment-received", correlationKey: "o-42", variables: { paid: 99.5 } })
      expect(yield* stateOf(key)).toBe("ACTIVE")
      // timer
      yield* TestClock.adjust("59 minutes")
      expect(yield* activate("ship")).toEqual([])
      yield* TestClock.adjust("1 minute")
      // error boundary event on the ship task, then the exclusive merge and the parallel join
      const ship = yield* activateOne("ship")
      expect(ship.variables).toEqual({ orderId: "o-42", valid: true, approved: true, paid: 99.5 })
      yield* Job.throwJobError({ jobKey: ship.jobKey, errorCode: "OUT_OF_STOCK", variables: { backordered: true } })
      expect(yield* stateOf(key)).toBe("ACTIVE")
      yield* completeOne("backorder")
      // end
      expect(yield* stateOf(key)).toBe("COMPLETED")
      const elements = yield* ElementInstance.searchElementInstances({ filter: { processInstanceKey: key }, sort: [{ field: "elementInstanceKey" }] })
      expect(elements.items.map((e) => `${e.elementId}:${e.state}`)).toEqual([
        "start:COMPLETED",
        "validate:COMPLETED",
        "review:COMPLETED",
        "decide:COMPLETED",
        "fork:COMPLETED",
        "payment:COMPLETED",
        "cooldown:COMPLETED",
        "ship:TERMINATED",
        "outOfStock:COMPLETED",
        "backorder:COMPLETED",
        "merge:COMPLETED",
        "join:COMPLETED",
        "done:COMPLETED"
      ])
      const variables = yield* Variable.searchVariables({ filter: { processInstanceKey: key }, sort: [{ field: "name" }] })
      expect(variables.items.map((v) => v.name)).toEqual(["approved", "backordered", "orderId", "paid", "valid"])
    }).pipe(Effect.provide(engineLayer())))
})
