/**
 * The README's quick start, run as users run it: against Prism, and with a conflict.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import { execFileSync } from "node:child_process"
import * as path from "node:path"
import { Keys } from "effect-camunda"
import { approve } from "../examples/quickstart.js"
import { defaultSpecPath } from "../support/prism.js"
import { mockHttp, problem } from "./support/mockHttp.js"

const root = path.resolve(import.meta.dirname, "..")

describe("quick start", () => {
  it.effect("catches Conflict when the task moved on", () => {
    const http = mockHttp(() => problem(409, { title: "INVALID_STATE", status: 409, detail: "the task is already completing" }))
    return approve(Keys.UserTaskKey.make("42")).pipe(
      Effect.map((outcome) => expect(outcome).toBe("user task 42 was not completed: the task is already completing")),
      Effect.provide(http.layer())
    )
  })

  it.skipIf(!fs.existsSync(defaultSpecPath))("`npm start` completes a user task against Prism", () => {
    const tsx = path.join(root, "node_modules/tsx/dist/cli.mjs")
    const { CAMUNDA_REST_ADDRESS: _a, ZEEBE_REST_ADDRESS: _z, ...env } = process.env
    const output = execFileSync(process.execPath, [tsx, "examples/quickstart.ts"], { cwd: root, encoding: "utf8", env })
    expect(output).toContain("completed user task 2251799813685249")
  }, 120_000)
})
