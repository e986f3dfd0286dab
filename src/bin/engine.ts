#!/usr/bin/env node
/**
 * `effect-camunda-engine`: serves the in-memory test engine (`effect-camunda/testkit`) over
 * HTTP so any Camunda 8 REST client — the official SDK, zbctl-style tools, curl — can use it.
 *
 *     effect-camunda-engine --port 8080 [--host 127.0.0.1]
 *     npx tsx src/bin/engine.ts --port 8080          (from a checkout)
 *
 * Runs until SIGINT or SIGTERM; a second signal exits at once.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import { parseArgs } from "node:util"
import * as TestEngine from "../TestEngine.js"

const usage = `Usage: effect-camunda-engine [--port <port>] [--host <host>]

Serves an in-memory Camunda 8 engine (Orchestration Cluster REST API v2, under /v2).

Options:
  -p, --port <port>  port to listen on; 0 picks a free one (default 8080)
  -H, --host <host>  address to listen on (default 127.0.0.1)
  -h, --help         show this help`

const fail = (message: string): never => {
  process.stderr.write(`effect-camunda-engine: ${message}\n\n${usage}\n`)
  process.exit(2)
}

const options = (() => {
  try {
    return parseArgs({
      options: {
        port: { type: "string", short: "p", default: "8080" },
        host: { type: "string", short: "H", default: "127.0.0.1" },
        help: { type: "boolean", short: "h", default: false }
      },
      strict: true,
      allowPositionals: false
    }).values
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
})()

if (options.help) {
  process.stdout.write(`${usage}\n`)
  process.exit(0)
}

const port = Number(options.port)
if (!/^\d+$/.test(options.port) || port > 65_535) fail(`--port must be a number from 0 to 65535, not "${options.port}"`)
const host = options.host

/** The address clients should use: a wildcard listen address is reached through loopback. */
const clientUrl = (served: TestEngine.Served): string =>
  host === "0.0.0.0" ? `http://127.0.0.1:${served.port}` : host === "::" ? `http://[::1]:${served.port}` : served.url

const main = Effect.scoped(
  Effect.gen(function*() {
    const served = yield* TestEngine.serve({ port, host })
    const url = clientUrl(served)
    yield* Effect.sync(() =>
      process.stdout.write(
        [
          `effect-camunda test engine listening on ${served.url} (REST API under ${url}/v2)`,
          `Point a client at it:  CAMUNDA_REST_ADDRESS=${url} CAMUNDA_AUTH_STRATEGY=NONE`,
          `Stop with Ctrl+C (SIGINT) or SIGTERM.`,
          ""
        ].join("\n")
      )
    )
    return yield* Effect.never
  })
)

const fiber = Effect.runFork(main)

let stopping = false
const stop = (signal: NodeJS.Signals) => {
  if (stopping) {
    process.stderr.write(`${signal} again: exiting now\n`)
    process.exit(130)
  }
  stopping = true
  process.stderr.write(`${signal}: stopping the engine\n`)
  fiber.unsafeInterruptAsFork(FiberId.none)
}
process.on("SIGINT", stop)
process.on("SIGTERM", stop)

fiber.addObserver((exit) => {
  process.off("SIGINT", stop)
  process.off("SIGTERM", stop)
  if (Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)) {
    const defect = Cause.squash(exit.cause)
    process.stderr.write(`effect-camunda-engine: ${defect instanceof Error ? defect.message : String(defect)}\n`)
    process.exitCode = 1
  }
})
