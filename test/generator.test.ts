/**
 * The generator: the committed output is exactly what it generates (drift), it accepts the
 * 8.10-alpha spec and that output type-checks, and the schema features decode as the spec means.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { run } from "../codegen/main.js"
import { Keys, Models, operations } from "effect-camunda"

const root = path.resolve(import.meta.dirname, "..")
const specDir = path.resolve(root, "../shared/camunda-api")
const spec89 = path.join(specDir, "rest-api-8.9.json")
const spec810 = path.join(specDir, "rest-api-8.10-alpha.json")
const specsPresent = fs.existsSync(spec89) && fs.existsSync(spec810)
if (!specsPresent) console.warn(`generator: drift and 8.10 tests skipped, ${specDir} is absent (../shared is not beside the project)`)

const listFiles = (dir: string): Array<string> =>
  fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort()

describe.skipIf(!specsPresent)("generator", () => {
  it.effect("regenerating from the 8.9 spec reproduces src/generated exactly", () =>
    Effect.gen(function*() {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "effect-camunda-drift-"))
      yield* run(spec89, out)
      const committed = path.join(root, "src/generated")
      expect(listFiles(out)).toEqual(listFiles(committed))
      const different = listFiles(out).filter((file) =>
        fs.readFileSync(path.join(out, file), "utf8") !== fs.readFileSync(path.join(committed, file), "utf8")
      )
      expect(different, "run `npm run generate` and commit the result").toEqual([])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("generates the 8.10-alpha spec (241 operations) into code that type-checks", () =>
    Effect.gen(function*() {
      const project = path.join(root, ".tmp/alpha")
      fs.rmSync(project, { recursive: true, force: true })
      fs.mkdirSync(path.join(project, "src"), { recursive: true })
      for (const entry of fs.readdirSync(path.join(root, "src"))) {
        if (entry !== "generated") fs.cpSync(path.join(root, "src", entry), path.join(project, "src", entry), { recursive: true })
      }
      yield* run(spec810, path.join(project, "src/generated"))
      const registry = fs.readFileSync(path.join(project, "src/generated/operations.ts"), "utf8")
      expect(registry.match(/^ {4}operationId: /gm)?.length).toBe(241)
      fs.writeFileSync(
        path.join(project, "tsconfig.json"),
        JSON.stringify({ extends: "../../tsconfig.json", compilerOptions: { noEmit: true, paths: {} }, include: ["src"] })
      )
      const tsc = path.join(root, "node_modules/typescript/bin/tsc")
      const result = Either.try(() => execFileSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" }))
      expect(Either.isRight(result) ? "" : String((result.left as { stdout?: string }).stdout)).toBe("")
    }).pipe(Effect.provide(NodeContext.layer)), 300_000)
})

describe("the 8.9 registry", () => {
  it("has all 183 operations with their static facts", () => {
    expect(Object.keys(operations)).toHaveLength(183)
    expect(operations.completeUserTask).toEqual({
      operationId: "completeUserTask",
      module: "UserTask",
      tag: "User task",
      method: "POST",
      path: "/user-tasks/{userTaskKey}/completion",
      declaredErrors: [400, 404, 409, 500, 503, 504],
      eventuallyConsistent: false,
      safeToRepeat: false,
      deprecated: false,
      addedInVersion: "8.5"
    })
    expect(operations.searchUserTasks.eventuallyConsistent).toBe(true)
  })
})

describe("generated schemas", () => {
  const decode = <A, I>(schema: Schema.Schema<A, I>) => Schema.decodeUnknownEither(schema)

  it("x-semantic-type keys are branded strings with the spec's pattern", () => {
    expect(Keys.UserTaskKey.make("2251799813685249")).toBe("2251799813685249")
    expect(() => Keys.UserTaskKey.make("12a")).toThrow(/UserTaskKey/)
    expect(Either.isLeft(decode(Keys.ProcessInstanceKey)(2251799813685249))).toBe(true)
    expect(Keys.ProcessDefinitionId.make("ÖrderProcess_1")).toBe("ÖrderProcess_1")
  })

  it("oneOf with a discriminator: the tag picks the member", () => {
    const jobResult = decode(Models.JobResult)
    expect(jobResult({ type: "userTask", denied: true })).toEqual(Either.right({ type: "userTask", denied: true }))
    expect(Either.isLeft(jobResult({ type: "somethingElse" }))).toBe(true)
  })

  it("oneOf without a discriminator: exact value or advanced filter", () => {
    const filter = decode(Models.ProcessInstanceKeyFilterProperty)
    expect(Either.isRight(filter("123"))).toBe(true)
    expect(Either.isRight(filter({ $in: ["1", "2"] }))).toBe(true)
    expect(Either.isLeft(filter({ $in: ["x"] }))).toBe(true)
  })

  it("allOf members are merged, with required fields from every member", () => {
    const result = decode(Models.ProcessInstanceSearchQuery)({ page: { limit: 5 }, filter: { state: "ACTIVE" } })
    expect(Either.isRight(result)).toBe(true)
  })

  it("nullable, enums, int32, date-time and additionalProperties", () => {
    expect(Either.isLeft(decode(Models.UserTaskStateEnum)("NOT_A_STATE"))).toBe(true)
    expect(Either.isRight(decode(Models.JobResultUserTask)(null))).toBe(true)
    expect(Either.isRight(decode(Models.UserTaskCompletionRequest)({ variables: { any: { nested: [1] } }, action: null }))).toBe(true)
    expect(Either.isLeft(decode(Models.SearchQueryPageRequest)({ limit: 1.5 }))).toBe(true)
    expect(Either.isLeft(decode(Models.DocumentMetadata)({ expiresAt: "tomorrow" }))).toBe(true)
    expect(Either.isRight(decode(Models.DocumentMetadata)({ expiresAt: "2030-01-01T00:00:00+01:00", size: 2 ** 40 }))).toBe(true)
  })
})
