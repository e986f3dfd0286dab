/**
 * Quick start (`npm run example -- quickstart`): complete a user task, and recover when it
 * can no longer be completed (`Conflict`: another user or a listener moved it on) or does
 * not exist (`NotFound`).
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { Keys, ProcessInstance, UserTask } from "effect-camunda"
import { deploy, run } from "./runtime.js"

/** Completes a user task with `approved: true` and says what happened. */
export const approve = (userTaskKey: Keys.UserTaskKey) =>
  UserTask.completeUserTask({ userTaskKey, variables: { approved: true } }).pipe(
    Effect.as(`completed user task ${userTaskKey}`),
    Effect.catchTags({
      Conflict: (conflict) => Effect.succeed(`user task ${userTaskKey} was not completed: ${conflict.detail ?? conflict.title}`),
      NotFound: () => Effect.succeed(`user task ${userTaskKey} does not exist (any more)`)
    })
  )

export const program = Effect.gen(function*() {
  yield* deploy("order.bpmn")
  const instance = yield* ProcessInstance.createProcessInstance({
    processDefinitionId: Keys.ProcessDefinitionId.make("order-approval"),
    variables: { orderId: "Q-1" }
  })
  const tasks = yield* UserTask.searchUserTasks({ filter: { processInstanceKey: instance.processInstanceKey, state: "CREATED" } })
  const task = tasks.items[0]
  if (task === undefined) return yield* Console.log("no open user task yet (a real cluster indexes it a moment later)")
  yield* Console.log(yield* approve(task.userTaskKey))
  yield* Console.log(yield* approve(task.userTaskKey))
})

if (import.meta.url === `file://${process.argv[1]}`) await run(program)
