/**
 * Job workers (`npm run example -- job-worker`): `JobWorker.make` runs the payment process's
 * service tasks. The charge-card worker decodes its variables with a Schema, completes most
 * orders, throws a BPMN error for a declined card (the boundary event takes over) and fails
 * a flaky charge once with a retry back-off; a second worker notifies the customer. Leaving
 * the scope stops both workers gracefully.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { JobWorker, Keys, ProcessInstance } from "effect-camunda"
import { deploy, run } from "./runtime.js"

/** The variables a charge-card job needs. */
const Payment = Schema.Struct({ orderId: Schema.String, card: Schema.String })

const charge = (job: JobWorker.Job<typeof Payment.Type>) => {
  const { card, orderId } = job.variables
  if (card === "0000") {
    return Console.log(`  ${orderId}: card declined, BPMN error CARD_DECLINED`).pipe(
      Effect.zipRight(JobWorker.bpmnError({ code: "CARD_DECLINED", message: "insufficient funds", variables: { declined: true } }))
    )
  }
  // payment.bpmn gives charge-card jobs 2 retries: the first attempt fails, the retry succeeds
  if (card === "5500" && job.retries === 2) {
    return Console.log(`  ${orderId}: gateway timeout, failing with a 1 s retry back-off`).pipe(
      Effect.zipRight(JobWorker.fail({ message: "payment gateway timeout", retryBackOff: "1 second" }))
    )
  }
  return Effect.as(Console.log(`  ${orderId}: charged (${job.retries} retries left)`), { chargedAt: new Date().toISOString() })
}

const stateOf = (processInstanceKey: Keys.ProcessInstanceKey) =>
  ProcessInstance.getProcessInstance({ processInstanceKey }).pipe(
    Effect.map((instance) => instance.state),
    // a cluster shows a new instance in searches and reads a moment later
    Effect.catchTag("NotFound", () => Effect.succeed("NOT_YET_VISIBLE"))
  )

/** The states of `keys` once none is active any more (at most 30 s). */
const settled = (keys: ReadonlyArray<Keys.ProcessInstanceKey>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 300; i++) {
      const states = yield* Effect.forEach(keys, stateOf)
      if (states.every((state) => state === "COMPLETED" || state === "TERMINATED")) return states
      yield* Effect.sleep("100 millis")
    }
    return yield* Effect.dieMessage("the orders did not complete within 30 s")
  })

export const program = Effect.gen(function*() {
  yield* deploy("payment.bpmn")
  const orders = [["W-1", "4111"], ["W-2", "0000"], ["W-3", "5500"]] as const
  const keys = yield* Effect.forEach(orders, ([orderId, card]) =>
    Effect.map(
      ProcessInstance.createProcessInstance({ processDefinitionId: Keys.ProcessDefinitionId.make("payment"), variables: { orderId, card } }),
      (created) => created.processInstanceKey
    ))
  yield* Console.log(`started ${keys.length} payments; starting the workers`)

  const states = yield* Effect.scoped(
    Effect.gen(function*() {
      const charging = yield* JobWorker.make({
        type: "charge-card",
        name: "example-charger",
        variables: Payment,
        maxJobsActive: 8,
        timeout: "30 seconds",
        extendTimeout: true,
        handler: charge
      })
      yield* JobWorker.make({
        type: "notify-customer",
        name: "example-notifier",
        variables: Schema.Struct({ orderId: Schema.String }),
        handler: (job) => Console.log(`  ${job.variables.orderId}: customer notified about the declined card`)
      })
      const states = yield* settled(keys)
      const stats = yield* charging.stats
      yield* Console.log(
        `charge-card worker: ${stats.activated} activated, ${stats.completed} completed, ${stats.failed} failed, ${stats.errored} BPMN error(s)`
      )
      return states
    })
  )
  yield* Console.log("workers stopped")
  for (const [index, state] of states.entries()) yield* Console.log(`payment ${orders[index]![0]}: ${state}`)
  return states
})

if (import.meta.url === `file://${process.argv[1]}`) await run(program)
