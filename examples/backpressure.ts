/**
 * Typed errors and backpressure (`npm run example -- backpressure`): the embedded engine
 * is given a capacity of 2 commands in flight and some latency, 12 orders are started at
 * once, and the calls the engine rejects with 503 RESOURCE_EXHAUSTED are retried with an
 * exponential, jittered `Schedule`. Other errors are not retried.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { CamundaError, Keys, ProcessInstance } from "effect-camunda"
import { deploy, engine, run } from "./runtime.js"

/** Backpressure: the command was not processed, so repeating it is safe. */
const isBackpressure = (error: CamundaError.CamundaError): boolean =>
  error._tag === "TooManyRequests" ||
  (error._tag === "ServiceUnavailable" && error.title === "RESOURCE_EXHAUSTED") ||
  (error._tag === "InternalServerError" && `${error.title} ${error.detail ?? ""}`.includes("RESOURCE_EXHAUSTED"))

/** Exponential from 50 ms, jittered, at most 8 retries. */
const backpressureRetry = Schedule.exponential("50 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(8)))

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
      Effect.tapError((error) => Effect.sync(() => isBackpressure(error) && rejected++)),
      Effect.retry({ schedule: backpressureRetry, while: isBackpressure })
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
