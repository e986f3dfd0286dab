/**
 * Message correlation (`npm run example -- messages`): instances wait for a
 * `parcel-delivered` message correlated by order id; one message is published before its
 * instance waits and is buffered by its time-to-live.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { Keys, Message, ProcessInstance } from "effect-camunda"
import { deploy, run } from "./runtime.js"

const startShipment = (orderId: string) =>
  ProcessInstance.createProcessInstance({ processDefinitionId: Keys.ProcessDefinitionId.make("shipment"), variables: { orderId } })

const stateOf = (processInstanceKey: Keys.ProcessInstanceKey) =>
  Effect.map(ProcessInstance.getProcessInstance({ processInstanceKey }), (instance) => instance.state)

export const program = Effect.gen(function*() {
  yield* deploy("shipment.bpmn")
  const first = yield* startShipment("C-1")
  yield* Console.log(`shipment C-1 waits for its parcel: ${yield* stateOf(first.processInstanceKey)}`)

  const correlated = yield* Message.correlateMessage({ name: "parcel-delivered", correlationKey: "C-1", variables: { deliveredTo: "front door" } })
  yield* Console.log(`correlated parcel-delivered for C-1 to process instance ${correlated.processInstanceKey}`)
  yield* Console.log(`shipment C-1: ${yield* stateOf(first.processInstanceKey)}`)

  yield* Message.publishMessage({ name: "parcel-delivered", correlationKey: "C-2", timeToLive: 60_000 })
  yield* Console.log("published parcel-delivered for C-2 before its shipment started (kept for 60 s)")
  const second = yield* startShipment("C-2")
  yield* Console.log(`shipment C-2 started and took the buffered message: ${yield* stateOf(second.processInstanceKey)}`)

  const nobody = yield* Message.correlateMessage({ name: "parcel-delivered", correlationKey: "C-404" }).pipe(
    Effect.as("correlated"),
    Effect.catchTag("NotFound", () => Effect.succeed("nobody waits for C-404 (NotFound)"))
  )
  yield* Console.log(nobody)
  return {
    first: yield* stateOf(first.processInstanceKey),
    second: yield* stateOf(second.processInstanceKey),
    correlatedTo: correlated.processInstanceKey,
    nobody
  }
})

if (import.meta.url === `file://${process.argv[1]}`) await run(program)
