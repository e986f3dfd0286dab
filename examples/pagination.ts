/**
 * Search pagination (`npm run example -- pagination`): page through process instances
 * with cursors (`after` the previous page's `endCursor`) until the last page.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { Keys, ProcessInstance } from "effect-camunda"
import { deploy, run } from "./runtime.js"

const pageSize = 4
const maxPages = 100

/** One page of shipment instances, after `cursor` (none on the first page). */
const page = (cursor: Keys.EndCursor | undefined) =>
  ProcessInstance.searchProcessInstances({
    filter: { processDefinitionId: Keys.ProcessDefinitionId.make("shipment") },
    sort: [{ field: "processInstanceKey", order: "ASC" }],
    page: cursor === undefined ? { limit: pageSize } : { limit: pageSize, after: cursor }
  })

export const program = Effect.gen(function*() {
  yield* deploy("shipment.bpmn")
  yield* Effect.forEach(Array.from({ length: 10 }, (_, i) => `E-${i}`), (orderId) =>
    ProcessInstance.createProcessInstance({ processDefinitionId: Keys.ProcessDefinitionId.make("shipment"), variables: { orderId } }), {
    discard: true
  })
  let cursor: Keys.EndCursor | undefined
  let pages = 0
  let seen = 0
  do {
    const result = yield* page(cursor)
    pages++
    seen += result.items.length
    yield* Console.log(`page ${pages}: ${result.items.map((item) => item.processInstanceKey).join(", ")} (${seen} of ${result.page.totalItems})`)
    cursor = result.items.length < pageSize ? undefined : result.page.endCursor ?? undefined
  } while (cursor !== undefined && pages < maxPages)
  return { pages, seen }
})

if (import.meta.url === `file://${process.argv[1]}`) await run(program)
