/**
 * The overloaded cluster of `bench/goodput.ts`, in its own process: `POST /v2/process-instances`
 * is served by at most CAPACITY requests in flight, each taking SERVICE_MS; one more is
 * answered at once with 503 `RESOURCE_EXHAUSTED`, as a Zeebe gateway does under backpressure.
 *
 * Settings come as argv `[capacity, serviceMs]`. It reports its port to the parent over IPC
 * (`{ port }`), answers `{ stats: true }` with `{ accepted, rejected, rejectedLater }` (503s sent after the
 * first second) (then resets them when the
 * message also says `reset: true`), and exits when the parent disconnects.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { serveToParent } from "./childServer.js"

const capacity = Number(process.argv[2] ?? 20)
const serviceMs = Number(process.argv[3] ?? 20)

let inFlight = 0
let accepted = 0
let rejected = 0
let rejectedLater = 0
let since = Date.now()
let nextKey = 2251799813685249n

const exhausted = JSON.stringify({
  type: "about:blank",
  title: "RESOURCE_EXHAUSTED",
  status: 503,
  detail: "Expected to handle the request, but the broker is at capacity",
  instance: "/v2/process-instances"
})

const created = (key: bigint) =>
  JSON.stringify({
    processDefinitionId: "bench",
    processDefinitionVersion: 1,
    processDefinitionKey: "2251799813685248",
    processInstanceKey: String(key),
    tenantId: "<default>",
    variables: {},
    tags: [],
    businessId: null
  })

const handle = (request: IncomingMessage, response: ServerResponse) => {
  request.resume()
  request.on("end", () => {
    if (request.method !== "POST" || request.url !== "/v2/process-instances") {
      response.writeHead(404).end()
      return
    }
    if (inFlight >= capacity) {
      rejected++
      if (Date.now() - since >= 1000) rejectedLater++
      response.writeHead(503, { "content-type": "application/problem+json" }).end(exhausted)
      return
    }
    inFlight++
    setTimeout(() => {
      inFlight--
      accepted++
      response.writeHead(200, { "content-type": "application/json" }).end(created(nextKey++))
    }, serviceMs)
  })
}

serveToParent(createServer({ keepAlive: true }, handle))

process.on("message", (message: { stats?: boolean; reset?: boolean }) => {
  if (message.stats === true) process.send?.({ accepted, rejected, rejectedLater })
  if (message.reset === true) {
    accepted = 0
    rejected = 0
    rejectedLater = 0
    since = Date.now()
  }
})

