/**
 * Every example, run as users run it: on a fresh embedded engine.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { program as backpressure } from "../examples/backpressure.js"
import { program as inbox } from "../examples/inbox.js"
import { program as jobWorker } from "../examples/job-worker.js"
import { program as jobs } from "../examples/jobs.js"
import { program as messages } from "../examples/messages.js"
import { program as pagination } from "../examples/pagination.js"
import { program as quickstart } from "../examples/quickstart.js"
import { provideClient } from "../examples/runtime.js"

const root = path.resolve(import.meta.dirname, "..")
const { CAMUNDA_REST_ADDRESS: _a, ZEEBE_REST_ADDRESS: _z, ...embeddedEnv } = process.env

describe("examples on the embedded engine", () => {
  it.live("inbox: claims, recovers from a conflict, releases and completes", () =>
    Effect.map(provideClient(inbox), (open) => expect(open).toBe(2)))

  it.live("jobs: completes, fails with back-off, throws to the boundary event", () =>
    Effect.map(provideClient(jobs), (states) => expect(states).toEqual(["COMPLETED", "COMPLETED", "COMPLETED"])))

  it.live("job-worker: workers complete, throw to the boundary event, retry after a failure, then stop", () =>
    Effect.map(provideClient(jobWorker), (states) => expect(states).toEqual(["COMPLETED", "COMPLETED", "COMPLETED"])))

  it.live("messages: correlates, buffers with TTL, reports NotFound", () =>
    Effect.map(provideClient(messages), (result) =>
      expect(result).toMatchObject({ first: "COMPLETED", second: "COMPLETED", nobody: "nobody waits for C-404 (NotFound)" })))

  it.live("backpressure: every order starts although the engine rejects some attempts", () =>
    Effect.map(provideClient(backpressure), ({ rejected, started }) => {
      expect(started).toBe(12)
      expect(rejected).toBeGreaterThan(0)
    }))

  it.live("pagination: pages with cursors until the last page", () =>
    Effect.map(provideClient(pagination), (result) => expect(result).toEqual({ pages: 3, seen: 10 })))

  it.live("quickstart", () => Effect.asVoid(provideClient(quickstart)))

  it("`npm start` runs the inbox end to end", () => {
    const tsx = path.join(root, "node_modules/tsx/dist/cli.mjs")
    const output = execFileSync(process.execPath, [tsx, "examples/inbox.ts"], { cwd: root, encoding: "utf8", env: embeddedEnv })
    expect(output).toContain("running on the embedded engine")
    expect(output).toContain("could not claim")
    expect(output).toContain("the sales inbox now has 2 open task(s)")
  }, 60_000)

  it("`npm run example -- jobs` runs one example by name", () => {
    const tsx = path.join(root, "node_modules/tsx/dist/cli.mjs")
    const output = execFileSync(process.execPath, [tsx, "examples/run.ts", "jobs"], { cwd: root, encoding: "utf8", env: embeddedEnv })
    expect(output).toContain("charged on the retry")
  }, 60_000)

  it("`npm run example -- job-worker` runs the job workers and stops them", () => {
    const tsx = path.join(root, "node_modules/tsx/dist/cli.mjs")
    const output = execFileSync(process.execPath, [tsx, "examples/run.ts", "job-worker"], { cwd: root, encoding: "utf8", env: embeddedEnv })
    expect(output).toContain("W-2: card declined, BPMN error CARD_DECLINED")
    expect(output).toContain("W-3: charged (1 retries left)")
    expect(output).toContain("workers stopped")
  }, 60_000)
})
