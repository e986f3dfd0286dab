/**
 * Raw job handling (`npm run example -- jobs`): activate jobs, complete one, fail one with
 * a retry back-off, and throw a business error that a boundary event catches.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { Job, Keys, ProcessInstance } from "effect-camunda"
import { deploy, run } from "./runtime.js"

const startPayment = (orderId: string, card: string) =>
  ProcessInstance.createProcessInstance({ processDefinitionId: Keys.ProcessDefinitionId.make("payment"), variables: { orderId, card } })

/** Activates up to `max` jobs of a type, waiting up to 2 s for one to appear. */
const activate = (type: string, max: number) =>
  Job.activateJobs({ type, worker: "example-worker", timeout: 30_000, maxJobsToActivate: max, requestTimeout: 2_000 }).pipe(
    Effect.map((result) => result.jobs)
  )

export const program = Effect.gen(function*() {
  yield* deploy("payment.bpmn")
  const paid = yield* startPayment("B-1", "4111")
  const declined = yield* startPayment("B-2", "0000")
  const flaky = yield* startPayment("B-3", "5500")

  const jobs = yield* activate("charge-card", 10)
  yield* Console.log(`activated ${jobs.length} charge-card job(s)`)
  for (const job of jobs) {
    const { card, orderId } = job.variables as { card: string; orderId: string }
    if (card === "0000") {
      yield* Job.throwJobError({ jobKey: job.jobKey, errorCode: "CARD_DECLINED", errorMessage: "insufficient funds" })
      yield* Console.log(`  ${orderId}: card declined, error thrown to the boundary event`)
    } else if (card === "5500") {
      yield* Job.failJob({ jobKey: job.jobKey, retries: job.retries - 1, errorMessage: "gateway timeout", retryBackOff: 1_000 })
      yield* Console.log(`  ${orderId}: failed, ${job.retries - 1} retry left after a 1 s back-off`)
    } else {
      yield* Job.completeJob({ jobKey: job.jobKey, variables: { chargedAt: new Date().toISOString() } })
      yield* Console.log(`  ${orderId}: charged`)
    }
  }

  const retried = yield* activate("charge-card", 1)
  for (const job of retried) {
    yield* Job.completeJob({ jobKey: job.jobKey, variables: { chargedAt: new Date().toISOString() } })
    yield* Console.log(`  ${(job.variables as { orderId: string }).orderId}: charged on the retry`)
  }

  for (const job of yield* activate("notify-customer", 10)) {
    yield* Job.completeJob({ jobKey: job.jobKey })
    yield* Console.log(`  ${(job.variables as { orderId: string }).orderId}: customer notified about the declined card`)
  }

  const states: Array<string> = []
  for (const { processInstanceKey } of [paid, declined, flaky]) {
    const instance = yield* ProcessInstance.getProcessInstance({ processInstanceKey })
    yield* Console.log(`process instance ${processInstanceKey}: ${instance.state}`)
    states.push(instance.state)
  }
  return states
})

if (import.meta.url === `file://${process.argv[1]}`) await run(program)
