/**
 * Throughput and latency of `UserTask.completeUserTask` against raw HTTP clients (`npm run bench`).
 *
 * A stub server (`bench/server.ts`, in a child process) answers 204 to
 * `POST /v2/user-tasks/<key>/completion` on 127.0.0.1. Each client then makes the same request —
 * POST, no body, `accept: application/problem+json`, which is what the operation sends for this
 * input — CALLS times at CONCURRENCY after WARMUP_CALLS untimed calls:
 *   (a) raw `undici.Pool` (connections = CONCURRENCY), the baseline;
 *   (b) global `fetch`;
 *   (c) effect-camunda on `FetchHttpClient.layer`;
 *   (d) effect-camunda on `NodeHttpClient.layerUndici`;
 *   (e) for reference, the same request through a bare `HttpClient` on `NodeHttpClient.layerUndici`
 *       (no effect-camunda): the ceiling for (d);
 *   (f) effect-camunda on `effect-camunda/UndiciHttpClient`; (g) (f) without a request timeout;
 *   (h) for reference, a bare `HttpClient` on `effect-camunda/UndiciHttpClient`: the ceiling for (f);
 *   (i) (f) with a tracer installed (the built-in tracer's functions as a tracer of its own), so
 *       every call makes its operation span: with Effect's built-in tracer (f) makes none.
 * The promise variants run CONCURRENCY async workers taking call indices from a shared counter;
 * the Effect variants run CONCURRENCY fibers doing the same (`BENCH_DRIVER=forEach`:
 * `Effect.forEach(..., { concurrency })`, a fiber per call) on a `ManagedRuntime` built once
 * per variant, constructing the request's Effect per call.
 *
 * The variants run ROUNDS times (`BENCH_ROUNDS`, default 3), interleaved, all warmed up first;
 * the table shows each variant's median round and the range of its rounds.
 *
 * Prints a markdown table (req/s, mean/p50/p99 latency per call), the (d), (f), (g) and (i) to (a)
 * throughput ratios against the target (≥ 0.5× raw undici), (d)/(e) and (f)/(h). Every loop has a fixed count; a watchdog
 * ends the process if the run stalls.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Context, DefaultServices, Duration, Effect, Layer, ManagedRuntime, Tracer } from "effect"
import { createRequire } from "node:module"
import * as os from "node:os"
import { performance } from "node:perf_hooks"
import { Pool } from "undici"
import * as CamundaClient from "../src/CamundaClient.js"
import type * as CamundaConfig from "../src/CamundaConfig.js"
import * as UndiciHttpClient from "../src/UndiciHttpClient.js"
import * as UserTask from "../src/generated/UserTask.js"
import * as Keys from "../src/generated/schemas/Keys.js"
import { forkServer, stopServer } from "./childServer.js"

const CALLS = 20_000
const WARMUP_CALLS = 2_000
const CONCURRENCY = 64
const TARGET_RATIO = 0.5
const WATCHDOG_MS = 15 * 60_000
/** Interleaved rounds (a, b, …, i, a, b, …); the table shows each variant's median round. */
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3)
/** How the Effect variants are driven: worker fibers (default) or `Effect.forEach` per call. */
const DRIVER = process.env["BENCH_DRIVER"] === "forEach" ? "forEach" : "workers"
const USER_TASK_KEY = "2251799813685249"
const PATH = `/v2/user-tasks/${USER_TASK_KEY}/completion`
const HEADERS = { accept: "application/problem+json" }

type VariantId = "a" | "b" | "c" | "d" | "e" | "f" | "g" | "h" | "i"

interface Variant {
  readonly id: VariantId
  readonly name: string
  /** Makes `calls` calls at CONCURRENCY, writing each call's latency (ms) into `latencies`. */
  readonly run: (calls: number, latencies: Float64Array) => Promise<void>
  readonly close: () => Promise<void>
}

interface Result {
  readonly id: VariantId
  readonly name: string
  readonly requestsPerSecond: number
  readonly meanMs: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** The req/s of every round, lowest first (filled in by `main`). */
  readonly rounds?: ReadonlyArray<number>
}

// --- the stub server -------------------------------------------------------------------------

// --- drivers ---------------------------------------------------------------------------------

/** CONCURRENCY workers taking call indices from a shared counter until `calls` are done. */
const runPromises = async (calls: number, latencies: Float64Array, call: () => Promise<void>) => {
  let next = 0
  const worker = async () => {
    while (next < calls) {
      const index = next++
      const start = performance.now()
      await call()
      latencies[index] = performance.now() - start
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}

/** One call of an Effect variant, timed into `latencies[index]`. */
const timedCall = <E, R>(index: number, latencies: Float64Array, call: () => Effect.Effect<void, E, R>) =>
  Effect.suspend(() => {
    const start = performance.now()
    return Effect.map(call(), () => {
      latencies[index] = performance.now() - start
    })
  })

/**
 * The same for an Effect: CONCURRENCY fibers taking call indices from a shared counter, as the
 * promise workers do. `BENCH_DRIVER=forEach` runs `Effect.forEach(…, { concurrency })` over the
 * indices instead, which forks a fiber per call: a cost of the driver that (a) does not pay.
 */
const runEffects = <E, R>(calls: number, latencies: Float64Array, call: () => Effect.Effect<void, E, R>) =>
  DRIVER === "forEach"
    ? Effect.forEach(Array.from({ length: calls }, (_, index) => index), (index) => timedCall(index, latencies, call), {
      concurrency: CONCURRENCY,
      discard: true
    })
    : Effect.suspend(() => {
      let next = 0
      const worker = Effect.whileLoop({
        while: () => next < calls,
        body: () => timedCall(next++, latencies, call),
        step: () => {}
      })
      return Effect.all(Array.from({ length: CONCURRENCY }, () => worker), { concurrency: "unbounded", discard: true })
    })

const expect204 = (status: number) => {
  if (status !== 204) throw new Error(`expected 204, got ${status}`)
}

// --- variants --------------------------------------------------------------------------------

const rawUndici = (origin: string): Variant => {
  const pool = new Pool(origin, { connections: CONCURRENCY })
  const call = async () => {
    const { statusCode, body } = await pool.request({ path: PATH, method: "POST", headers: HEADERS })
    await body.dump()
    expect204(statusCode)
  }
  return {
    id: "a",
    name: `raw undici.Pool (connections ${CONCURRENCY})`,
    run: (calls, latencies) => runPromises(calls, latencies, call),
    close: () => pool.close()
  }
}

const globalFetch = (origin: string): Variant => {
  const url = `${origin}${PATH}`
  const call = async () => {
    const response = await fetch(url, { method: "POST", headers: HEADERS })
    await response.arrayBuffer()
    expect204(response.status)
  }
  return {
    id: "b",
    name: "global fetch",
    run: (calls, latencies) => runPromises(calls, latencies, call),
    close: async () => {}
  }
}

const onRuntime = <R>(
  id: VariantId,
  name: string,
  layer: Layer.Layer<R>,
  call: () => Effect.Effect<void, unknown, R>
): Variant => {
  const runtime = ManagedRuntime.make(layer)
  return {
    id,
    name,
    run: (calls, latencies) => runtime.runPromise(runEffects(calls, latencies, call)),
    close: () => runtime.dispose()
  }
}

/**
 * A tracer installed by the application, as cheap as one can be: Effect's built-in tracer's
 * own functions in a tracer object of their own. With it every call makes its operation span
 * (with the built-in tracer itself, none: see ARCHITECTURE "Each call runs in a span"); a real
 * exporter (OpenTelemetry) costs more on top.
 */
const installedTracer = (() => {
  const builtIn = Context.get(DefaultServices.liveServices, Tracer.Tracer)
  return Tracer.make({ span: builtIn.span, context: builtIn.context })
})()

const camunda = (
  id: VariantId,
  name: string,
  httpClient: Layer.Layer<HttpClient.HttpClient>,
  options: CamundaConfig.Options = {},
  withTracer = false
) => (origin: string) => {
  const input = { userTaskKey: Keys.UserTaskKey.make(USER_TASK_KEY) }
  const client = CamundaClient.layer({ restAddress: origin, ...options }).pipe(Layer.provide(httpClient))
  const layer = withTracer ? Layer.merge(client, Layer.setTracer(installedTracer)) : client
  return onRuntime(id, name, layer, () => UserTask.completeUserTask(input))
}

const bareHttpClient = (id: VariantId, name: string, httpClient: Layer.Layer<HttpClient.HttpClient>) => (origin: string) => {
  const url = `${origin}${PATH}`
  const call = () =>
    Effect.flatMap(HttpClient.execute(HttpClientRequest.post(url, { headers: HEADERS })), (response) => {
      expect204(response.status)
      return Effect.asVoid(response.text)
    })
  return onRuntime(id, name, httpClient, call)
}

const VARIANTS: ReadonlyArray<(origin: string) => Variant> = [
  rawUndici,
  globalFetch,
  camunda("c", "effect-camunda on FetchHttpClient.layer", FetchHttpClient.layer),
  camunda("d", "effect-camunda on NodeHttpClient.layerUndici", NodeHttpClient.layerUndici),
  bareHttpClient("e", "bare HttpClient on NodeHttpClient.layerUndici (reference)", NodeHttpClient.layerUndici),
  camunda("f", "effect-camunda on UndiciHttpClient.layer (effect-camunda/UndiciHttpClient)", UndiciHttpClient.layer()),
  camunda("g", "(f) with requestTimeout: Duration.infinity (no deadline per attempt)", UndiciHttpClient.layer(), {
    requestTimeout: Duration.infinity
  }),
  bareHttpClient("h", "bare HttpClient on UndiciHttpClient.layer (reference: the ceiling of (f))", UndiciHttpClient.layer()),
  camunda("i", "(f) with a tracer installed (every call makes its operation span)", UndiciHttpClient.layer(), {}, true)
]

// --- measuring and reporting -----------------------------------------------------------------

const summarize = ({ id, name }: Variant, latencies: Float64Array, elapsedMs: number): Result => {
  const sorted = Float64Array.from(latencies).sort()
  const percentile = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
  return {
    id,
    name,
    requestsPerSecond: latencies.length / (elapsedMs / 1000),
    meanMs: latencies.reduce((sum, ms) => sum + ms, 0) / latencies.length,
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99)
  }
}

const measure = async (variant: Variant): Promise<Result> => {
  const latencies = new Float64Array(CALLS)
  const start = performance.now()
  await variant.run(CALLS, latencies)
  return summarize(variant, latencies, performance.now() - start)
}

const environment = () => {
  const undiciVersion = (createRequire(import.meta.url)("undici/package.json") as { version: string }).version
  return `Node ${process.version} (fetch: bundled undici ${process.versions.undici}), undici ${undiciVersion}, ` +
    `${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim() ?? "unknown CPU"})`
}

const printReport = (results: ReadonlyArray<Result>) => {
  const rate = (id: VariantId) => results.find((result) => result.id === id)?.requestsPerSecond
  const baseline = rate("a")
  if (baseline === undefined) throw new Error("the report needs (a), raw undici")
  const ms = (value: number) => value.toFixed(2)
  console.log(`## completeUserTask: ${CALLS} calls, concurrency ${CONCURRENCY}, ${WARMUP_CALLS} warm-up calls, Effect variants driven by ${DRIVER === "forEach" ? "Effect.forEach (a fiber per call)" : `${CONCURRENCY} worker fibers`}\n`)
  console.log(environment() + "\n")
  console.log(`median of ${ROUNDS} interleaved rounds\n`)
  console.log("| client | req/s | range of rounds | mean ms | p50 ms | p99 ms | vs (a) |\n|---|---:|---:|---:|---:|---:|---:|")
  for (const r of results) {
    const ratio = (r.requestsPerSecond / baseline).toFixed(2)
    const rounds = r.rounds ?? [r.requestsPerSecond]
    const range = `${Math.round(rounds[0]!)} – ${Math.round(rounds[rounds.length - 1]!)}`
    console.log(
      `| (${r.id}) ${r.name} | ${Math.round(r.requestsPerSecond)} | ${range} | ${ms(r.meanMs)} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${ratio}× |`
    )
  }
  for (const id of ["d", "f", "g", "i"] as const) {
    const own = rate(id)
    if (own === undefined) continue
    const ratio = own / baseline
    const verdict = ratio >= TARGET_RATIO ? "met" : "NOT met"
    console.log(`\n(${id}) / (a) = ${ratio.toFixed(2)}× — target ≥ ${TARGET_RATIO}× raw undici: ${verdict}`)
  }
  for (const [own, bare] of [["d", "e"], ["f", "h"]] as const) {
    const [ownRate, bareRate] = [rate(own), rate(bare)]
    if (ownRate === undefined || bareRate === undefined) continue
    console.log(`(${own}) / (${bare}) = ${(ownRate / bareRate).toFixed(2)}× — effect-camunda over a bare HttpClient on the same layer`)
  }
}

const main = async () => {
  setTimeout(() => {
    console.error(`bench: no result after ${WATCHDOG_MS / 1000} s, giving up`)
    process.exit(1)
  }, WATCHDOG_MS).unref()
  const { child, port } = await forkServer("./server.ts")
  // BENCH_ONLY=a,f,g runs a subset (for quick comparisons; the report needs (a))
  const only = process.env["BENCH_ONLY"]?.split(",")
  const variants = VARIANTS.map((makeVariant) => makeVariant(`http://127.0.0.1:${port}`))
  const selected = variants.filter((variant) => only === undefined || only.includes(variant.id))
  try {
    for (const variant of selected) await variant.run(WARMUP_CALLS, new Float64Array(WARMUP_CALLS))
    const rounds = new Map<Variant, Array<Result>>(selected.map((variant) => [variant, []]))
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of selected) rounds.get(variant)!.push(await measure(variant))
    }
    printReport(selected.map((variant) => {
      const sorted = [...rounds.get(variant)!].sort((x, y) => x.requestsPerSecond - y.requestsPerSecond)
      return { ...sorted[Math.floor(sorted.length / 2)]!, rounds: sorted.map((result) => result.requestsPerSecond) }
    }))
  } finally {
    for (const variant of variants) await variant.close()
    await stopServer(child)
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
