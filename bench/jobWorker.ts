/**
 * Job worker throughput: effect-camunda's `JobWorker` against the official SDK's
 * `createJobWorker` (`npm run bench:jobs`: compiled with esbuild, as the package ships; `npx tsx
 * bench/jobWorker.ts` runs it from source). `BENCH_ONLY=a,b` runs a subset, `BENCH_ROUNDS=n`
 * sets the rounds, `WORKER_PROF=<dir>` / `ENGINE_PROF=<dir>` write CPU profiles.
 *
 * For each worker, a fresh embedded engine is served over HTTP on 127.0.0.1 by the
 * `effect-camunda-engine` bin (`src/bin/engine.ts`) in a child process, so both clients face
 * the same server and neither shares its event loop. A process with one service task
 * (`bench`) is deployed; WARMUP_JOBS instances are created and worked off untimed (JIT
 * warm-up of client and engine), then JOBS instances are created, and the time from starting
 * a new worker until the last of them is completed is measured. Both workers: the same
 * capacity (MAX_JOBS_ACTIVE), job timeout 60 s, long poll 10 s, a no-op handler that
 * completes the job without variables, each client's defaults otherwise:
 *   (a) official SDK `@camunda8/orchestration-cluster-api` `createJobWorker` (maxParallelJobs);
 *   (b) effect-camunda `JobWorker.make` on `effect-camunda/UndiciHttpClient`;
 *   (c) effect-camunda `JobWorker.make` on `NodeHttpClient.layerUndici` (`@effect/platform-node`);
 *   (d) for reference, (b) with `requestTimeout: Duration.infinity` (no timer per request; not
 *       the default, see BENCHMARKS.md on the completeUserTask benchmark's variant (g)).
 * Afterwards the engine is asked how many instances completed (must be every one) and how many
 * jobs it activated more than once (timeouts; must be none).
 *
 * The variants run ROUNDS times, interleaved (a, b, c, d, a, b, …), each round on a fresh
 * engine and with the worker in a fresh process of its own (this script with `--measure`), so
 * no variant inherits the heap or JIT state of another; the table shows the median round and
 * the range. Prints a markdown table (jobs/s,
 * seconds, ratio of medians to the SDK, CPU time per job of the worker process and of the
 * engine process during the timed phase) and the verdict on the target ((b) ≥ 2× (a)). A
 * watchdog ends the process if the run stalls.
 */
import { createCamundaClient } from "@camunda8/orchestration-cluster-api"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Duration, Effect, Layer, ManagedRuntime } from "effect"
import { type ChildProcess, fork, spawn } from "node:child_process"
import { once } from "node:events"
import { readFileSync, writeFileSync } from "node:fs"
import { Session } from "node:inspector/promises"
import * as os from "node:os"
import { performance } from "node:perf_hooks"
import * as CamundaClient from "../src/CamundaClient.js"
import type * as CamundaConfig from "../src/CamundaConfig.js"
import * as ProcessInstance from "../src/generated/ProcessInstance.js"
import * as Resource from "../src/generated/Resource.js"
import * as Keys from "../src/generated/schemas/Keys.js"
import * as JobWorker from "../src/JobWorker.js"
import * as UndiciHttpClient from "../src/UndiciHttpClient.js"
import { quietSdkConfig } from "../support/officialSdk.js"
import { entry } from "./entry.js"

const JOBS = 5_000
const WARMUP_JOBS = 500
const MAX_JOBS_ACTIVE = 32
const JOB_TIMEOUT_MS = 60_000
const POLL_TIMEOUT_MS = 10_000
const TARGET_RATIO = 2
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 5)
const WATCHDOG_MS = 4 * 60_000
const JOB_TYPE = "bench"

const BPMN = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="Definitions_bench" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="bench" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />
    <bpmn:serviceTask id="task">
      <bpmn:extensionElements><zeebe:taskDefinition type="${JOB_TYPE}" /></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>`

// --- the engine --------------------------------------------------------------------------------

interface Engine {
  readonly url: string
  readonly pid: number | undefined
  readonly stop: () => Promise<void>
}

/** User + system CPU time of process `pid` from /proc (Linux), in µs. */
const processCpuMicros = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined
  try {
    // fields after the command name: state is the 1st, utime the 12th, stime the 13th (clock ticks, 100 per second)
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    return (Number(fields[11]) + Number(fields[12])) * 10_000
  } catch {
    return undefined
  }
}

const startEngine = async (): Promise<Engine> => {
  const engineScript = entry("../src/bin/engine.ts", import.meta.url)
  const profile = process.env["ENGINE_PROF"] ? ["--cpu-prof", `--cpu-prof-dir=${process.env["ENGINE_PROF"]}`] : []
  const child: ChildProcess = spawn(
    process.execPath,
    [...profile, ...engineScript.execArgv, engineScript.path, "--port", "0"],
    { stdio: ["ignore", "pipe", "inherit"] }
  )
  const url = await new Promise<string>((resolve, reject) => {
    let output = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8")
      const match = /listening on (http:\/\/[^\s]+)/.exec(output)
      if (match !== null) resolve(match[1]!)
    })
    child.once("exit", (code) => reject(new Error(`the engine exited early (code ${code})`)))
  })
  return {
    url,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = once(child, "exit")
      child.kill("SIGTERM")
      await exited
    }
  }
}

/** The engine's answer to a search, as plain JSON. */
const search = async (url: string, what: string, body: unknown) => {
  const response = await fetch(`${url}/v2/${what}/search`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body)
  })
  return (await response.json()) as { items: Array<Record<string, unknown>>; page: { totalItems: number } }
}

/** Completed instances, and jobs the engine had to hand out twice (a timed-out activation). */
const verify = async (url: string) => {
  const completed = await search(url, "process-instances", { filter: { state: "COMPLETED" }, page: { limit: 1 } })
  const timedOut = await search(url, "jobs", { filter: { state: "TIMED_OUT" }, page: { limit: 1 } })
  const active = await search(url, "process-instances", { filter: { state: "ACTIVE" }, page: { limit: 1 } })
  return { completed: completed.page.totalItems, active: active.page.totalItems, timedOut: timedOut.page.totalItems }
}

// --- setup through effect-camunda ----------------------------------------------------------------

const setupLayer = (url: string) => CamundaClient.layer({ restAddress: url }).pipe(Layer.provide(UndiciHttpClient.layer()))

const deploy = (url: string) =>
  Effect.runPromise(
    Resource.createDeployment({ resources: [new File([BPMN], "bench.bpmn")] }).pipe(Effect.provide(setupLayer(url)))
  )

const createInstances = (url: string, count: number) =>
  Effect.runPromise(
    Effect.forEach(
      Array.from({ length: count }, (_, i) => i),
      (i) => ProcessInstance.createProcessInstance({ processDefinitionId: Keys.ProcessDefinitionId.make("bench"), variables: { i } }),
      { concurrency: 32, discard: true }
    ).pipe(Effect.provide(setupLayer(url)))
  )

// --- the workers --------------------------------------------------------------------------------

interface Variant {
  readonly id: "a" | "b" | "c" | "d"
  readonly name: string
  /** Starts a worker on `url`, resolves once `jobs` jobs are completed, and stops it. */
  readonly work: (url: string, jobs: number) => Promise<void>
}

const officialSdk: Variant = {
  id: "a",
  name: `official SDK createJobWorker (maxParallelJobs ${MAX_JOBS_ACTIVE})`,
  work: async (url, jobs) => {
    const camunda = createCamundaClient({
      env: {},
      config: quietSdkConfig(url)
    })
    let done = 0
    let finished!: () => void
    const allDone = new Promise<void>((resolve) => {
      finished = resolve
    })
    const worker = camunda.createJobWorker({
      jobType: JOB_TYPE,
      maxParallelJobs: MAX_JOBS_ACTIVE,
      jobTimeoutMs: JOB_TIMEOUT_MS,
      pollTimeoutMs: POLL_TIMEOUT_MS,
      jobHandler: async (job) => {
        const receipt = await job.complete()
        if (++done === jobs) finished()
        return receipt
      }
    })
    await allDone
    worker.stop()
  }
}

const effectWorker = (
  id: "b" | "c" | "d",
  name: string,
  http: Layer.Layer<HttpClient.HttpClient>,
  options: CamundaConfig.Options = {}
): Variant => ({
  id,
  name,
  work: async (url, jobs) => {
    const runtime = ManagedRuntime.make(CamundaClient.layer({ restAddress: url, ...options }).pipe(Layer.provide(http)))
    try {
      await runtime.runPromise(Effect.scoped(Effect.gen(function*() {
        const worker = yield* JobWorker.make({
          type: JOB_TYPE,
          maxJobsActive: MAX_JOBS_ACTIVE,
          timeout: JOB_TIMEOUT_MS,
          pollTimeout: POLL_TIMEOUT_MS,
          handler: () => Effect.void
        })
        while ((yield* worker.stats).completed < jobs) yield* Effect.sleep("2 millis")
      })))
    } finally {
      await runtime.dispose()
    }
  }
})

const VARIANTS: ReadonlyArray<Variant> = [
  officialSdk,
  effectWorker("b", `effect-camunda JobWorker on UndiciHttpClient (maxJobsActive ${MAX_JOBS_ACTIVE})`, UndiciHttpClient.layer()),
  effectWorker("c", `effect-camunda JobWorker on NodeHttpClient.layerUndici (maxJobsActive ${MAX_JOBS_ACTIVE})`, NodeHttpClient.layerUndici),
  effectWorker("d", "(b) with requestTimeout: Duration.infinity (reference, not the default)", UndiciHttpClient.layer(), {
    requestTimeout: Duration.infinity
  })
]

// --- measuring -----------------------------------------------------------------------------------

interface Run {
  readonly seconds: number
  readonly jobsPerSecond: number
  /** CPU time per job of this process (the worker) and of the engine's, in µs. */
  readonly workerCpuMicros: number
  readonly engineCpuMicros: number | undefined
}

interface Result {
  readonly variant: Variant
  readonly runs: ReadonlyArray<Run>
  readonly median: Run
}

/**
 * With WORKER_PROF=<dir>, a V8 CPU profile of this process (the worker) during the timed phase
 * is written to <dir>/worker-<variant>-<time>.cpuprofile (the engine's: ENGINE_PROF).
 */
const startWorkerProfile = async () => {
  const dir = process.env["WORKER_PROF"]
  if (dir === undefined) return undefined
  const session = new Session()
  session.connect()
  await session.post("Profiler.enable")
  await session.post("Profiler.setSamplingInterval", { interval: 100 })
  await session.post("Profiler.start")
  return {
    stop: async (id: string) => {
      const { profile } = await session.post("Profiler.stop")
      writeFileSync(`${dir}/worker-${id}-${Date.now()}.cpuprofile`, JSON.stringify(profile))
      session.disconnect()
    }
  }
}

/**
 * One round of `variant` in this process, a fresh worker process (`--measure`): deploy, warm
 * up, create the jobs, time the worker, check the engine's account.
 */
const measureHere = async (variant: Variant, url: string, enginePid: number | undefined): Promise<Run> => {
  await deploy(url)
  await createInstances(url, WARMUP_JOBS)
  await variant.work(url, WARMUP_JOBS)
  await createInstances(url, JOBS)
  const profile = await startWorkerProfile()
  const engineBefore = processCpuMicros(enginePid)
  const workerBefore = process.cpuUsage()
  const eluBefore = performance.eventLoopUtilization()
  const started = performance.now()
  await variant.work(url, JOBS)
  const seconds = (performance.now() - started) / 1000
  const worker = process.cpuUsage(workerBefore)
  const busy = performance.eventLoopUtilization(eluBefore).utilization
  const engineAfter = processCpuMicros(enginePid)
  await profile?.stop(variant.id)
  const check = await verify(url)
  if (check.completed !== WARMUP_JOBS + JOBS || check.active !== 0 || check.timedOut !== 0) {
    throw new Error(`(${variant.id}): the engine reports ${JSON.stringify(check)}, expected ${WARMUP_JOBS + JOBS} completed instances`)
  }
  process.stderr.write(
    `(${variant.id}) ${JOBS} jobs in ${seconds.toFixed(2)} s, worker's event loop busy ${Math.round(busy * 100)} %, ` +
      `CPU per job ${Math.round(worker.user / JOBS)} µs user + ${Math.round(worker.system / JOBS)} µs system\n`
  )
  return {
    seconds,
    jobsPerSecond: JOBS / seconds,
    workerCpuMicros: (worker.user + worker.system) / JOBS,
    engineCpuMicros: engineBefore === undefined || engineAfter === undefined ? undefined : (engineAfter - engineBefore) / JOBS
  }
}

/**
 * One round of `variant`: a fresh engine, and the worker in a fresh process of its own, so no
 * variant runs on the heap, JIT state or sockets another one left behind.
 */
const measure = async (variant: Variant): Promise<Run> => {
  const engine = await startEngine()
  try {
    const self = entry("./jobWorker.ts", import.meta.url)
    const child = fork(self.path, ["--measure", variant.id, engine.url, String(engine.pid ?? "")], {
      execArgv: [...self.execArgv],
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    return await new Promise<Run>((resolve, reject) => {
      child.once("message", (run: Run) => resolve(run))
      child.once("exit", (code) => reject(new Error(`(${variant.id}): the worker process exited (code ${code}) without a result`)))
    })
  } finally {
    await engine.stop()
  }
}

const printReport = (unordered: ReadonlyArray<Result>) => {
  const results = [...unordered].sort((x, y) => x.variant.id.localeCompare(y.variant.id))
  const rate = (id: Variant["id"]) => results.find((result) => result.variant.id === id)?.median.jobsPerSecond
  const sdk = rate("a")
  if (sdk === undefined) throw new Error("the report needs (a), the official SDK")
  console.log(
    `## Job worker: ${JOBS} jobs (no-op handler), capacity ${MAX_JOBS_ACTIVE}, after ${WARMUP_JOBS} warm-up jobs; median of ${ROUNDS} rounds\n`
  )
  console.log(
    `Node ${process.version}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim() ?? "unknown CPU"}); ` +
      `engine: effect-camunda-engine in a child process on 127.0.0.1\n`
  )
  console.log(
    "| worker | jobs/s (median) | range of rounds | seconds (median) | vs (a) | worker CPU µs/job | engine CPU µs/job |\n" +
      "|---|---:|---:|---:|---:|---:|---:|"
  )
  for (const { median, runs, variant } of results) {
    const rates = runs.map((run) => run.jobsPerSecond)
    const range = `${Math.round(Math.min(...rates))} – ${Math.round(Math.max(...rates))}`
    console.log(
      `| (${variant.id}) ${variant.name} | ${Math.round(median.jobsPerSecond)} | ${range} | ${median.seconds.toFixed(2)} | ${
        (median.jobsPerSecond / sdk).toFixed(2)
      }× | ${Math.round(median.workerCpuMicros)} | ${median.engineCpuMicros === undefined ? "n/a" : Math.round(median.engineCpuMicros)} |`
    )
  }
  for (const id of ["b", "c", "d"] as const) {
    const own = rate(id)
    if (own === undefined) continue
    const ratio = own / sdk
    console.log(`\n(${id}) / (a) = ${ratio.toFixed(2)}× — target ≥ ${TARGET_RATIO}× the official SDK: ${ratio >= TARGET_RATIO ? "met" : "NOT met"}`)
  }
}

/** In a worker process started by `measure`: one round, its result sent to the parent. */
const measureInChild = async ([id, url, pid]: ReadonlyArray<string>) => {
  const variant = VARIANTS.find((candidate) => candidate.id === id)
  if (variant === undefined || url === undefined) throw new Error(`--measure: unknown variant ${id}`)
  // the parent gone (its watchdog fired): do not linger
  process.on("disconnect", () => process.exit(1))
  const run = await measureHere(variant, url, pid === undefined || pid === "" ? undefined : Number(pid))
  await new Promise<void>((resolve) => process.send!(run, () => resolve()))
}

const main = async () => {
  const measureIndex = process.argv.indexOf("--measure")
  if (measureIndex >= 0) return measureInChild(process.argv.slice(measureIndex + 1))
  setTimeout(() => {
    console.error(`bench: no result after ${WATCHDOG_MS / 1000} s, giving up`)
    process.exit(1)
  }, WATCHDOG_MS).unref()
  // BENCH_ONLY=a,b runs a subset (for quick comparisons and profiles; the report needs (a))
  const only = process.env["BENCH_ONLY"]?.split(",")
  const variants = only === undefined ? VARIANTS : only.flatMap((id) => VARIANTS.filter((variant) => variant.id === id))
  const runs = new Map<Variant, Array<Run>>(variants.map((variant) => [variant, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of variants) runs.get(variant)!.push(await measure(variant))
  }
  printReport(variants.map((variant) => {
    const sorted = [...runs.get(variant)!].sort((x, y) => x.jobsPerSecond - y.jobsPerSecond)
    return { variant, runs: sorted, median: sorted[Math.floor(sorted.length / 2)]! }
  }))
}

main().then(
  () => process.exit(),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
