/**
 * A real HTTP server on loopback whose answers a test scripts request by request, for the
 * fault suite. Records when each request arrived and which connections closed before an answer.
 */
import * as Effect from "effect/Effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** What the server does with one request. */
export type Script = (request: IncomingMessage, response: ServerResponse) => void

export interface Loopback {
  /** Base URL (without `/v2`). */
  readonly url: string
  /** Arrival time (ms, wall clock) and path of every request. */
  readonly arrivals: Array<{ readonly at: number; readonly path: string }>
  /** Paths of requests whose connection closed before the server answered. */
  readonly abandoned: Array<string>
}

/** Answers with a problem document. */
export const problemAnswer = (status: number, title: string, extra: { detail?: string; headers?: Record<string, string> } = {}): Script =>
  (_, response) => {
    response.writeHead(status, { "content-type": "application/problem+json", ...extra.headers })
    response.end(JSON.stringify({ type: "about:blank", title, status, ...(extra.detail === undefined ? {} : { detail: extra.detail }) }))
  }

/** Answers 204. */
export const noContent: Script = (_, response) => {
  response.writeHead(204).end()
}

/** Answers 200 with a JSON (or any text) body. */
export const jsonAnswer = (body: unknown, raw = false): Script => (_, response) => {
  response.writeHead(200, { "content-type": "application/json" }).end(raw ? String(body) : JSON.stringify(body))
}

/** Destroys the connection without answering. */
export const reset: Script = (request) => {
  request.socket.destroy()
}

/** Never answers (until the client gives up). */
export const hang: Script = () => {}

/** Serves `scripts` in order (the last one repeats) on 127.0.0.1 until the scope closes. */
export const loopback = (scripts: ReadonlyArray<Script>) =>
  Effect.acquireRelease(
    Effect.async<{ server: ReturnType<typeof createServer>; state: Omit<Loopback, "url"> }>((resume) => {
      const state = { arrivals: [] as Array<{ at: number; path: string }>, abandoned: [] as Array<string> }
      const server = createServer((request, response) => {
        const script = scripts[Math.min(state.arrivals.length, scripts.length - 1)]!
        state.arrivals.push({ at: Date.now(), path: request.url ?? "" })
        response.on("close", () => {
          if (!response.writableFinished) state.abandoned.push(request.url ?? "")
        })
        request.resume()
        request.on("end", () => script(request, response))
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, state })))
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(
    Effect.map(({ server, state }): Loopback => ({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      ...state
    }))
  )
