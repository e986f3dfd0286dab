/**
 * A user-task inbox (`npm start`): deploy an approval process, start orders, list the open
 * tasks of the sales team, claim one (and recover when a colleague claimed it first),
 * update, release and complete tasks.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { Keys, ProcessInstance, UserTask } from "effect-camunda"
import { deploy, run } from "./runtime.js"

/** Starts an order-approval instance for an order. */
const startOrder = (orderId: string, amount: number) =>
  ProcessInstance.createProcessInstance({
    processDefinitionId: Keys.ProcessDefinitionId.make("order-approval"),
    variables: { orderId, amount }
  })

/** The open tasks the sales team can claim. */
const salesInbox = UserTask.searchUserTasks({
  filter: { state: "CREATED", candidateGroup: "sales", processDefinitionId: Keys.ProcessDefinitionId.make("order-approval") },
  sort: [{ field: "creationDate", order: "ASC" }]
})

/**
 * Claims a task for `user`. Someone else may have claimed it first: then the task is
 * left alone (`allowOverride: false` makes the engine answer 409 Conflict).
 */
const claim = (userTaskKey: Keys.UserTaskKey, user: string) =>
  UserTask.assignUserTask({ userTaskKey, assignee: user, allowOverride: false }).pipe(
    Effect.zipRight(Console.log(`  ${user} claimed ${userTaskKey}`)),
    Effect.as(true),
    Effect.catchTag("Conflict", (conflict) =>
      Console.log(`  ${user} could not claim ${userTaskKey}: ${conflict.detail ?? conflict.title}`).pipe(Effect.as(false)))
  )

/** Claims the first unclaimed task of the inbox for `user`, trying the next when one is taken. */
const claimNext = (user: string) =>
  Effect.gen(function*() {
    const inbox = yield* salesInbox
    for (const task of inbox.items) {
      if (task.assignee !== null) continue
      if (yield* claim(task.userTaskKey, user)) return task.userTaskKey
    }
    return undefined
  })

/** The inbox program. */
export const program = Effect.gen(function*() {
  yield* deploy("order.bpmn")
  for (const [orderId, amount] of [["A-100", 120], ["A-101", 4500], ["A-102", 60]] as const) {
    const instance = yield* startOrder(orderId, amount)
    yield* Console.log(`started order ${orderId}: process instance ${instance.processInstanceKey}`)
  }

  const inbox = yield* salesInbox
  yield* Console.log(`the sales inbox has ${inbox.page.totalItems} open task(s)`)

  yield* Console.log("alice and bob both go for the oldest task; bob then takes the next free one:")
  const first = inbox.items[0]!.userTaskKey
  yield* claim(first, "alice")
  yield* claim(first, "bob")
  const bobs = yield* claimNext("bob")

  yield* Console.log("alice marks her task urgent and sets a due date:")
  yield* UserTask.updateUserTask({ userTaskKey: first, changeset: { priority: 90, dueDate: "2030-01-31T17:00:00.000Z" } })
  const updated = yield* UserTask.getUserTask({ userTaskKey: first })
  yield* Console.log(`  ${first}: priority ${updated.priority}, due ${updated.dueDate}`)

  if (bobs !== undefined) {
    yield* Console.log("bob is going on holiday and releases his task:")
    yield* UserTask.unassignUserTask({ userTaskKey: bobs })
    yield* Console.log(`  ${bobs} is back in the inbox`)
  }

  yield* Console.log("alice approves her order:")
  yield* UserTask.completeUserTask({ userTaskKey: first, variables: { approved: true, approvedBy: "alice" } })
  yield* Console.log(`  completed ${first} with approved = true`)

  const remaining = yield* salesInbox
  yield* Console.log(`the sales inbox now has ${remaining.page.totalItems} open task(s)`)
  return remaining.page.totalItems
})

if (import.meta.url === `file://${process.argv[1]}`) await run(program)
