/**
 * The stub Camunda endpoint for `bench/completeUserTask.ts`, run in its own process so it does
 * not share an event loop with the client being measured.
 *
 * Answers `POST /v2/user-tasks/<key>/completion` with 204 after draining the request body;
 * anything else gets 404. Listens on 127.0.0.1 on a free port with keep-alive on, reports the
 * port to the parent over IPC (`{ port }`) and exits when the parent disconnects.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { serveToParent } from "./childServer.js"

const COMPLETION = /^\/v2\/user-tasks\/[^/]+\/completion$/

const handle = (request: IncomingMessage, response: ServerResponse) => {
  const status = request.method === "POST" && COMPLETION.test(request.url ?? "") ? 204 : 404
  request.on("end", () => response.writeHead(status).end())
  request.resume()
}

serveToParent(createServer({ keepAlive: true }, handle))

