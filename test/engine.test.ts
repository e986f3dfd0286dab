/**
 * The embedded engine, through the public client only.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Job, ProcessInstance, UserTask } from "effect-camunda"
import { bpmnFile, deployAndStart, engineLayer } from "./support/engine.js"

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
})
