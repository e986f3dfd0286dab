/**
 * Goodput under backpressure (`npm run bench:goodput`, part of `npm run bench`).
 *
 * A loopback server (`bench/capacityServer.ts`, its own process) serves at most CAPACITY
 * `createProcessInstance` requests at a time, SERVICE_MS each, and answers any request beyond
 * that at once with 503 `RESOURCE_EXHAUSTED`: its capacity is CAPACITY / SERVICE_MS calls per
 * second. CALLERS concurrent callers make CALLS calls in all, in one run, with:
 *
 *   (a) effect-camunda without the gate (profile LEGACY: observe only), default retry policy
 *   (b) effect-camunda with the gate (profile BALANCED, start window 16), default retry policy
 *   (c) the official SDK `@camunda8/orchestration-cluster-api`, profile BALANCED, its default retries
 *   (d) (b) without the start window (`startWindow: undefined`): the burst goes out at once
 *
 * The server's capacity is measured first: a raw undici Pool with exactly CAPACITY callers
 * (never a 503) shows what it really serves (SERVICE_MS plus round trip and timer lateness).
 * For each client, after 1,000 warm-up calls at half the capacity (no 503s, so every gate starts unlimited) at the server's capacity (not counted): completed calls
 * per second (goodput) and its share of the server's capacity, the 503s the server sent, and
 * the calls that failed after their retries. Prints a markdown table. GOODPUT_CAPACITY,
 * GOODPUT_SERVICE_MS, GOODPUT_CALLERS and GOODPUT_CALLS change the setting.
 */
import { createCamundaClient } from "@camunda8/orchestration-cluster-api"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import type { ChildProcess } from "node:child_process"
import { Pool } from "undici"
import * as Backpressure from "../src/Backpressure.js"
import * as CamundaClient from "../src/CamundaClient.js"
import { ProcessDefinitionId } from "../src/generated/schemas/Keys.js"
import * as ProcessInstance from "../src/generated/ProcessInstance.js"
import * as UndiciHttpClient from "../src/UndiciHttpClient.js"
import { quietSdkConfig } from "../support/officialSdk.js"
import { forkServer, stopServer } from "./childServer.js"

const CAPACITY = Number(process.env["GOODPUT_CAPACITY"] ?? 32)
const SERVICE_MS = Number(process.env["GOODPUT_SERVICE_MS"] ?? 50)
const CALLERS = Number(process.env["GOODPUT_CALLERS"] ?? 200)
const CALLS = Number(process.env["GOODPUT_CALLS"] ?? 10_000)
const WARMUP_CALLS = 1_000
const capacityPerSecond = (CAPACITY * 1000) / SERVICE_MS

interface Server {
  readonly child: ChildProcess
  readonly origin: string
  readonly stats: (reset?: boolean) => Promise<{ accepted: number; rejected: number; rejectedLater: number }>
}

const startServer = async (): Promise<Server> => {
  const { child, port } = await forkServer("./capacityServer.ts", [String(CAPACITY), String(SERVICE_MS)])
  const stats = (reset = false) =>
    new Promise<{ accepted: number; rejected: number; rejectedLater: number }>((resolve) => {
      child.once("message", resolve)
      child.send({ stats: true, reset })
    })
  return { child, origin: `http://127.0.0.1:${port}`, stats }
}

interface Outcome {
  readonly name: string
  readonly completed: number
  readonly failed: number
  readonly seconds: number
  readonly rejected: number
  readonly rejectedLater: number
  readonly firstFailure: string | undefined
}

/** `callers` workers taking calls from a shared counter until `calls` are made. */
const drive = async (call: () => Promise<boolean>, calls = CALLS, callers = CALLERS) => {
  let next = 0
  let completed = 0
  let failed = 0
  const worker = async () => {
    while (next < calls) {
      next++
      if (await call()) completed++
      else failed++
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: callers }, worker))
  return { completed, failed, seconds: (performance.now() - start) / 1000 }
}

const measure = async (server: Server, name: string, call: () => Promise<boolean>, failure: () => string | undefined) => {
  // warm-up at half the server's capacity (no 503s, so every gate starts unlimited): JIT and connections
  await drive(call, WARMUP_CALLS, Math.max(1, Math.floor(CAPACITY / 2)))
  await server.stats(true)
  const { completed, failed, seconds } = await drive(call)
  const { rejected, rejectedLater } = await server.stats(true)
  return { name, completed, failed, seconds, rejected, rejectedLater, firstFailure: failure() } satisfies Outcome
}

const effectCamunda = async (server: Server, name: string, backpressure: Backpressure.ProfileName | Backpressure.Profile) => {
  const layer = CamundaClient.layer({ restAddress: server.origin, backpressure }).pipe(Layer.provide(UndiciHttpClient.layer()))
  const runtime = ManagedRuntime.make(layer)
  const start = ProcessInstance.createProcessInstance({ processDefinitionId: ProcessDefinitionId.make("bench") })
  let firstFailure: string | undefined
  const call = Effect.match(start, {
    onFailure: (error) => {
      firstFailure ??= error.message
      return false
    },
    onSuccess: () => true
  })
  // GOODPUT_TRACE=1 prints the gate's limit and calls in flight every 250 ms
  const trace = process.env["GOODPUT_TRACE"] === undefined ? undefined : setInterval(() => {
    runtime.runPromise(Effect.flatMap(CamundaClient.CamundaClient, (client) =>
      Effect.zip(client.gate.state, client.gate.inFlight))).then(([state, inFlight]) =>
        console.log(`  limit ${state.limit._tag === "Some" ? state.limit.value : "none"}, in flight ${inFlight}, waiting ${state.waiting}, signals ${state.signals}`)
      )
  }, 250)
  try {
    return await measure(server, name, () => runtime.runPromise(call), () => firstFailure)
  } finally {
    clearInterval(trace)
    await runtime.dispose()
  }
}

const officialSdk = async (server: Server, name: string) => {
  const camunda = createCamundaClient({
    env: {},
    config: {
      ...quietSdkConfig(server.origin),
      CAMUNDA_SDK_BACKPRESSURE_PROFILE: "BALANCED",
      CAMUNDA_SDK_VALIDATION: "req:none,res:none"
    }
  })
  let firstFailure: string | undefined
  const call = () =>
    Promise.resolve(camunda.createProcessInstance({ processDefinitionId: "bench" } as never)).then(
      () => true,
      (error: unknown) => {
        firstFailure ??= error instanceof Error ? error.message : String(error)
        return false
      }
    )
  return measure(server, name, call, () => firstFailure)
}

/**
 * What the server really serves: a raw undici Pool with exactly CAPACITY callers (never a 503).
 * A request takes SERVICE_MS plus the round trip and the timer's lateness, so this is below the
 * nominal CAPACITY / SERVICE_MS; goodput is measured against it.
 */
const measuredCapacity = async (server: Server) => {
  const pool = new Pool(server.origin, { connections: CAPACITY })
  const body = JSON.stringify({ processDefinitionId: "bench" })
  const call = async () => {
    const { body: answer, statusCode } = await pool.request({
      method: "POST",
      path: "/v2/process-instances",
      headers: { "content-type": "application/json" },
      body
    })
    await answer.text()
    return statusCode === 200
  }
  try {
    await drive(call, WARMUP_CALLS, CAPACITY)
    await server.stats(true)
    const { completed, failed, seconds } = await drive(call, CALLS, CAPACITY)
    const { rejected, rejectedLater } = await server.stats(true)
    return {
      name: `reference: raw undici.Pool, exactly ${CAPACITY} callers (the server's capacity)`,
      completed,
      failed,
      seconds,
      rejected,
      rejectedLater,
      firstFailure: undefined
    }
  } finally {
    await pool.close()
  }
}

const goodputOf = (outcome: Outcome) => outcome.completed / outcome.seconds

const row = (outcome: Outcome, capacity: number) =>
  `| ${outcome.name} | ${outcome.completed} | ${outcome.failed} | ${goodputOf(outcome).toFixed(0)} | ${
    (goodputOf(outcome) / capacity).toFixed(2)
  }× | ${outcome.rejected} | ${outcome.rejectedLater} | ${outcome.seconds.toFixed(1)} |`

const main = async () => {
  const server = await startServer()
  try {
    console.log(
      `goodput: server capacity ${CAPACITY} in flight × ${SERVICE_MS} ms = ${capacityPerSecond} calls/s; ${CALLERS} callers, ${CALLS} createProcessInstance calls per client; node ${process.version}`
    )
    console.log("measuring the server's capacity …")
    const reference = await measuredCapacity(server)
    const capacity = goodputOf(reference)
    const outcomes: Array<Outcome> = [reference]
    const variants: Array<[string, () => Promise<Outcome>]> = [
      ["(a) effect-camunda, no gate (LEGACY)", () => effectCamunda(server, "(a) effect-camunda, no gate (LEGACY)", "LEGACY")],
      ["(b) effect-camunda, gate (BALANCED)", () => effectCamunda(server, "(b) effect-camunda, gate (BALANCED)", "BALANCED")],
      ["(c) official SDK (BALANCED)", () => officialSdk(server, "(c) official SDK (BALANCED)")],
      [
        "(d) effect-camunda, gate (BALANCED) without the start window",
        () =>
          effectCamunda(server, "(d) effect-camunda, gate (BALANCED) without the start window", {
            ...Backpressure.balanced,
            startWindow: undefined
          })
      ]
    ]
    for (const [name, run] of variants) {
      console.log(`running ${name} …`)
      const outcome = await run()
      outcomes.push(outcome)
      if (outcome.firstFailure !== undefined) console.log(`  first failure: ${outcome.firstFailure}`)
    }
    console.log("")
    console.log(`capacity served at exactly ${CAPACITY} in flight: ${capacity.toFixed(0)} calls/s (nominal ${capacityPerSecond})`)
    console.log("")
    console.log("| client | completed | failed | goodput (calls/s) | of capacity | 503s sent | of them after the first second | seconds |")
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|")
    for (const outcome of outcomes) console.log(row(outcome, capacity))
  } finally {
    await stopServer(server.child)
  }
}

main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
