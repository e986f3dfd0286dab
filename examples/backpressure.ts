/**
 * Typed errors and backpressure (`npm run example -- backpressure`): the embedded engine
 * is given a capacity of 2 commands in flight and some latency, and 12 orders are started
 * at once. The client retries backpressure by itself (`Retry.defaultPolicy`); here that is
 * turned off for the calls (`CamundaClient.withRetry(…, Retry.none)`) and the program
 * retries with its own `Schedule` instead, counting the rejected attempts. Other errors are
 * not retried.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { CamundaClient, Keys, ProcessInstance, Retry } from "effect-camunda"
import { deploy, engine, run } from "./runtime.js"

/** Exponential from 50 ms, ±20 % jitter, at most 10 attempts, never sooner than Retry-After. */
const backpressureRetry = Retry.schedule(Retry.policy({ baseDelay: "50 millis", jitter: "proportional", maxAttempts: 10 }))

export const program = Effect.gen(function*() {
  yield* deploy("shipment.bpmn")
  const testEngine = yield* engine
  if (Option.isSome(testEngine)) {
    yield* testEngine.value.setCapacity(2)
    yield* testEngine.value.setLatency("20 millis")
    yield* Console.log("the embedded engine now accepts 2 commands at a time")
  }
  let rejected = 0
  const start = (orderId: string) =>
    ProcessInstance.createProcessInstance({ processDefinitionId: Keys.ProcessDefinitionId.make("shipment"), variables: { orderId } }).pipe(
      CamundaClient.withRetry(Retry.none),
      Effect.tapError((error) => Effect.sync(() => Retry.isBackpressure(error) && rejected++)),
      Effect.retry({ schedule: backpressureRetry, while: Retry.isBackpressure })
    )
  const started = yield* Effect.forEach(Array.from({ length: 12 }, (_, i) => `D-${i}`), start, { concurrency: "unbounded" })
  yield* Console.log(`started ${started.length} orders; ${rejected} attempt(s) were rejected with backpressure and retried`)

  const missing = yield* ProcessInstance.getProcessInstance({ processInstanceKey: Keys.ProcessInstanceKey.make("1") }).pipe(
    Effect.as("found"),
    Effect.catchTags({
      NotFound: (error) => Effect.succeed(`a typed NotFound, not retried: ${error.message}`),
      BadRequest: (error) => Effect.succeed(`a typed BadRequest: ${error.message}`)
    })
  )
  yield* Console.log(missing)
  return { started: started.length, rejected }
})

if (import.meta.url === `file://${process.argv[1]}`) await run(program)
