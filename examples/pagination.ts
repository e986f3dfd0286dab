/**
 * Search pagination (`npm run example -- pagination`): `Search.pages` pages through process
 * instances with cursors (`after` the previous page's `endCursor`) until the last page;
 * `Search.stream` gives the items themselves, requesting a page only when it needs one.
 */
import * as Chunk from "effect/Chunk"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { Keys, ProcessInstance, Search } from "effect-camunda"
import { deploy, run } from "./runtime.js"

const pageSize = 4

/** Shipment instances, oldest key first. */
const shipments = {
  filter: { processDefinitionId: Keys.ProcessDefinitionId.make("shipment") },
  sort: [{ field: "processInstanceKey" as const, order: "ASC" as const }]
}

export const program = Effect.gen(function*() {
  yield* deploy("shipment.bpmn")
  yield* Effect.forEach(Array.from({ length: 10 }, (_, i) => `E-${i}`), (orderId) =>
    ProcessInstance.createProcessInstance({ processDefinitionId: Keys.ProcessDefinitionId.make("shipment"), variables: { orderId } }), {
    discard: true
  })

  // page by page: one element (and one request) per page, with the page's metadata
  const { pages, seen } = yield* Search.pages(ProcessInstance.searchProcessInstances, shipments, { pageSize }).pipe(
    Stream.runFoldEffect({ pages: 0, seen: 0 }, (done, result) => {
      const next = { pages: done.pages + 1, seen: done.seen + result.items.length }
      return Console.log(
        `page ${next.pages}: ${result.items.map((item) => item.processInstanceKey).join(", ")} (${next.seen} of ${result.page.totalItems})`
      ).pipe(Effect.as(next))
    })
  )

  // item by item: the first three instances cost one request
  const firstThree = yield* Search.stream(ProcessInstance.searchProcessInstances, shipments, { pageSize }).pipe(
    Stream.map((instance) => instance.processInstanceKey),
    Stream.take(3),
    Stream.runCollect
  )
  yield* Console.log(`the first three: ${Chunk.join(firstThree, ", ")}`)
  return { pages, seen }
})

if (import.meta.url === `file://${process.argv[1]}`) await run(program)
