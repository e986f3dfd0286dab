/**
 * Test engine: user tasks — get, search (filters, sort, pagination), assignment, updates, completion.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Keys, ProcessInstance, Resource, UserTask, Variable } from "effect-camunda"
import { bpmnFile, engineLayer, openTaskOf, start, stateOf, testBpmn } from "../support/engine.js"

const unknownTask = Keys.UserTaskKey.make("1")

/** Four `user-task` instances (owner, urgency) and one `order-approval`; bob's task completed. */
const fixture = Effect.gen(function*() {
  yield* Resource.createDeployment({ resources: [testBpmn("user-task.bpmn"), bpmnFile("order.bpmn")] })
  const owners: ReadonlyArray<[string, number]> = [["alice", 10], ["bob", 90], ["alice", 50], ["carol", 70]]
  const instances = yield* Effect.forEach(owners, ([owner, urgency]) => start("user-task", { owner, urgency }))
  const order = yield* start("order-approval", { orderId: "o-1" })
  const bobs = yield* openTaskOf(instances[1]!.processInstanceKey)
  yield* UserTask.completeUserTask({ userTaskKey: bobs.userTaskKey })
  return { instances, order }
})

const priorities = (result: { readonly items: ReadonlyArray<{ readonly priority: number }> }) => result.items.map((task) => task.priority)

describe("user tasks", () => {
  it.effect("getUserTask answers the task, and 404 for an unknown key", () =>
    Effect.gen(function*() {
      const { order } = yield* fixture
      const open = yield* openTaskOf(order.processInstanceKey)
      const task = yield* UserTask.getUserTask({ userTaskKey: open.userTaskKey })
      expect(task).toMatchObject({
        userTaskKey: open.userTaskKey,
        name: "Review order",
        state: "CREATED",
        assignee: null,
        candidateGroups: ["sales"],
        priority: 60,
        elementId: "review",
        processDefinitionId: "order-approval",
        processInstanceKey: order.processInstanceKey,
        creationDate: "1970-01-01T00:00:00.000Z",
        completionDate: null,
        tenantId: "<default>"
      })
      const error = yield* Effect.flip(UserTask.getUserTask({ userTaskKey: unknownTask }))
      expect(error._tag).toBe("NotFound")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("searchUserTasks filters on state, assignee, candidateGroup, processInstanceKey and elementId", () =>
    Effect.gen(function*() {
      const { instances, order } = yield* fixture
      expect((yield* UserTask.searchUserTasks({ filter: { state: "CREATED" } })).page.totalItems).toBe(4)
      const completed = yield* UserTask.searchUserTasks({ filter: { state: "COMPLETED" } })
      expect(completed.items.map((task) => task.assignee)).toEqual(["bob"])
      const alices = yield* UserTask.searchUserTasks({ filter: { assignee: "alice" } })
      expect(alices.items.map((task) => task.processInstanceKey)).toEqual([instances[0]!.processInstanceKey, instances[2]!.processInstanceKey])
      expect((yield* UserTask.searchUserTasks({ filter: { assignee: { $in: ["bob", "carol"] }, state: "CREATED" } })).page.totalItems).toBe(1)
      expect((yield* UserTask.searchUserTasks({ filter: { assignee: { $exists: false } } })).page.totalItems).toBe(1)
      const sales = yield* UserTask.searchUserTasks({ filter: { candidateGroup: "sales" } })
      expect(sales.items.map((task) => task.processInstanceKey)).toEqual([order.processInstanceKey])
      expect((yield* UserTask.searchUserTasks({ filter: { candidateGroup: "auditors" } })).page.totalItems).toBe(4)
      expect((yield* UserTask.searchUserTasks({ filter: { candidateUser: "carol" } })).page.totalItems).toBe(4)
      const ofInstance = yield* UserTask.searchUserTasks({ filter: { processInstanceKey: instances[3]!.processInstanceKey } })
      expect(ofInstance.items.map((task) => task.assignee)).toEqual(["carol"])
      const reviews = yield* UserTask.searchUserTasks({ filter: { elementId: Keys.ElementId.make("review") } })
      expect(reviews.items.map((task) => task.processInstanceKey)).toEqual([order.processInstanceKey])
      const urgent = yield* UserTask.searchUserTasks({ filter: { priority: { $gte: 60 }, state: "CREATED" } })
      expect(urgent.page.totalItems).toBe(2)
      const byVariable = yield* UserTask.searchUserTasks({ filter: { processInstanceVariables: [{ name: "urgency", value: "70" }] } })
      expect(byVariable.items.map((task) => task.assignee)).toEqual(["carol"])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("searchUserTasks sorts, e.g. by priority descending", () =>
    Effect.gen(function*() {
      yield* fixture
      expect(priorities(yield* UserTask.searchUserTasks({ sort: [{ field: "priority", order: "DESC" }] }))).toEqual([90, 70, 60, 50, 10])
      expect(priorities(yield* UserTask.searchUserTasks({ sort: [{ field: "priority", order: "ASC" }] }))).toEqual([10, 50, 60, 70, 90])
    }).pipe(Effect.provide(engineLayer())))

  it.effect("searchUserTasks pages with cursors (after, before) and offsets (from)", () =>
    Effect.gen(function*() {
      yield* fixture
      const sort = [{ field: "priority", order: "DESC" }] as const
      const first = yield* UserTask.searchUserTasks({ sort, page: { limit: 2 } })
      expect(priorities(first)).toEqual([90, 70])
      expect(first.page.totalItems).toBe(5)
      const second = yield* UserTask.searchUserTasks({ sort, page: { limit: 2, after: first.page.endCursor! } })
      expect(priorities(second)).toEqual([60, 50])
      const third = yield* UserTask.searchUserTasks({ sort, page: { limit: 2, after: second.page.endCursor! } })
      expect(priorities(third)).toEqual([10])
      const beyond = yield* UserTask.searchUserTasks({ sort, page: { limit: 2, after: third.page.endCursor! } })
      expect(beyond.items).toEqual([])
      expect(beyond.page.endCursor).toBeNull()
      const back = yield* UserTask.searchUserTasks({ sort, page: { limit: 2, before: third.page.startCursor! } })
      expect(priorities(back)).toEqual([60, 50])
      const backToStart = yield* UserTask.searchUserTasks({ sort, page: { limit: 2, before: back.page.startCursor! } })
      expect(priorities(backToStart)).toEqual([90, 70])
      expect(priorities(yield* UserTask.searchUserTasks({ sort, page: { from: 3, limit: 2 } }))).toEqual([50, 10])
      expect(priorities(yield* UserTask.searchUserTasks({ sort, page: { from: 4 } }))).toEqual([10])
      const bad = yield* Effect.flip(UserTask.searchUserTasks({ sort, page: { after: Keys.EndCursor.make("eHg=") } }))
      expect(bad._tag).toBe("BadRequest")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("assignUserTask: 409 when assigned to someone else and allowOverride is false; unassignUserTask", () =>
    Effect.gen(function*() {
      const { instances } = yield* fixture
      const task = yield* openTaskOf(instances[0]!.processInstanceKey)
      expect(task.assignee).toBe("alice")
      const refused = yield* Effect.flip(UserTask.assignUserTask({ userTaskKey: task.userTaskKey, assignee: "dave", allowOverride: false }))
      expect(refused._tag).toBe("Conflict")
      if (refused._tag === "Conflict") expect(refused.status).toBe(409)
      // the same assignee again is fine
      yield* UserTask.assignUserTask({ userTaskKey: task.userTaskKey, assignee: "alice", allowOverride: false })
      // allowOverride defaults to true
      yield* UserTask.assignUserTask({ userTaskKey: task.userTaskKey, assignee: "dave" })
      expect((yield* UserTask.getUserTask({ userTaskKey: task.userTaskKey })).assignee).toBe("dave")
      yield* UserTask.unassignUserTask({ userTaskKey: task.userTaskKey })
      expect((yield* UserTask.getUserTask({ userTaskKey: task.userTaskKey })).assignee).toBeNull()
      yield* UserTask.assignUserTask({ userTaskKey: task.userTaskKey, assignee: "erin", allowOverride: false })
      expect((yield* UserTask.getUserTask({ userTaskKey: task.userTaskKey })).assignee).toBe("erin")
      const empty = yield* Effect.flip(UserTask.assignUserTask({ userTaskKey: task.userTaskKey, assignee: "" }))
      expect(empty._tag).toBe("BadRequest")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("updateUserTask applies its changeset; null or absent attributes are kept", () =>
    Effect.gen(function*() {
      const { order } = yield* fixture
      const task = yield* openTaskOf(order.processInstanceKey)
      yield* UserTask.updateUserTask({
        userTaskKey: task.userTaskKey,
        changeset: {
          dueDate: "2031-05-01T10:00:00.000Z",
          followUpDate: "2031-04-01T10:00:00.000Z",
          candidateGroups: ["finance"],
          candidateUsers: ["frank"],
          priority: 99
        }
      })
      const updated = yield* UserTask.getUserTask({ userTaskKey: task.userTaskKey })
      expect(updated).toMatchObject({
        dueDate: "2031-05-01T10:00:00.000Z",
        followUpDate: "2031-04-01T10:00:00.000Z",
        candidateGroups: ["finance"],
        candidateUsers: ["frank"],
        priority: 99
      })
      yield* UserTask.updateUserTask({ userTaskKey: task.userTaskKey, changeset: { priority: null, candidateUsers: [], dueDate: null } })
      const kept = yield* UserTask.getUserTask({ userTaskKey: task.userTaskKey })
      expect(kept).toMatchObject({ priority: 99, candidateUsers: [], dueDate: "2031-05-01T10:00:00.000Z", candidateGroups: ["finance"] })
      const unknown = yield* Effect.flip(UserTask.updateUserTask({ userTaskKey: unknownTask, changeset: { priority: 1 } }))
      expect(unknown._tag).toBe("NotFound")
    }).pipe(Effect.provide(engineLayer())))

  it.effect("completeUserTask with variables; a completed task is gone for commands (404, as in Zeebe)", () =>
    Effect.gen(function*() {
      const { order } = yield* fixture
      const task = yield* openTaskOf(order.processInstanceKey)
      yield* UserTask.completeUserTask({ userTaskKey: task.userTaskKey, variables: { approved: false, note: "too expensive" } })
      const completed = yield* UserTask.getUserTask({ userTaskKey: task.userTaskKey })
      expect(completed.state).toBe("COMPLETED")
      expect(completed.completionDate).not.toBeNull()
      // approved = false takes the default flow to the "rejected" end event
      expect(yield* stateOf(order.processInstanceKey)).toBe("COMPLETED")
      const variables = yield* Variable.searchVariables({ filter: { processInstanceKey: order.processInstanceKey }, sort: [{ field: "name" }] })
      expect(variables.items.map((v) => [v.name, v.value])).toEqual([["approved", "false"], ["note", "\"too expensive\""], ["orderId", "\"o-1\""]])
      for (
        const command of [
          UserTask.completeUserTask({ userTaskKey: task.userTaskKey }),
          UserTask.assignUserTask({ userTaskKey: task.userTaskKey, assignee: "x" }),
          UserTask.unassignUserTask({ userTaskKey: task.userTaskKey }),
          UserTask.updateUserTask({ userTaskKey: task.userTaskKey, changeset: { priority: 1 } })
        ]
      ) {
        const error = yield* Effect.flip(command)
        expect(error._tag).toBe("NotFound")
      }
      for (
        const command of [
          UserTask.completeUserTask({ userTaskKey: unknownTask }),
          UserTask.assignUserTask({ userTaskKey: unknownTask, assignee: "x" }),
          UserTask.unassignUserTask({ userTaskKey: unknownTask })
        ]
      ) {
        expect((yield* Effect.flip(command))._tag).toBe("NotFound")
      }
    }).pipe(Effect.provide(engineLayer())))

  it.effect("a user task of a cancelled instance is CANCELED", () =>
    Effect.gen(function*() {
      const { instances } = yield* fixture
      const task = yield* openTaskOf(instances[3]!.processInstanceKey)
      yield* ProcessInstance.cancelProcessInstance({ processInstanceKey: instances[3]!.processInstanceKey })
      expect((yield* UserTask.getUserTask({ userTaskKey: task.userTaskKey })).state).toBe("CANCELED")
      expect((yield* Effect.flip(UserTask.completeUserTask({ userTaskKey: task.userTaskKey })))._tag).toBe("NotFound")
    }).pipe(Effect.provide(engineLayer())))
})
