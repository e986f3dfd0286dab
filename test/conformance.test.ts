/**
 * Conformance against Stoplight Prism serving the 8.9 spec: every operation is called
 * with an input generated from its own schema; Prism must report no contract violation,
 * the success body must decode, and every declared error status must come back as the
 * right error class.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Arbitrary from "effect/Arbitrary"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import { afterAll, beforeAll } from "vitest"
import * as Auth from "../src/Auth.js"
import * as CamundaClient from "../src/CamundaClient.js"
import * as Retry from "../src/Retry.js"
import { errorByStatus, type KnownStatus } from "../src/CamundaError.js"
import { operations } from "../src/generated/operations.js"
import { defaultSpecPath, type Prism, startPrism } from "../support/prism.js"
import { allOperations, type AnyOperation } from "./support/operations.js"

const multipartArrays =
  "Prism's multipart parser keeps only the last part of a name, so an array of files never validates; " +
  "the encoding is covered by test/executor.test.ts"

/** Operations left out of the run, each with its reason. */
const excluded: Record<string, string> = {
  createDeployment: multipartArrays,
  createDocuments: multipartArrays
}

const unsatisfiableBodies =
  "Prism cannot produce a valid success body: its examples put \"string\" in key fields and its generator " +
  "cannot write the \\p{L} pattern of the id fields; the error statuses are verified"

/** Operations whose success body is not verified (their error statuses are), each with its reason. */
const successUnverifiable: Record<string, string> = {
  getAuditLog: unsatisfiableBodies,
  evaluateDecision: unsatisfiableBodies
}

const specPresent = fs.existsSync(defaultSpecPath)
if (!specPresent) console.warn(`conformance: skipped, ${defaultSpecPath} is absent (../shared is not beside the project)`)

/** The `Prefer` header of the current call, and where Prism's `sl-violations` of the call go. */
const prefer = FiberRef.unsafeMake("dynamic=true")
const violations = FiberRef.unsafeMake<Array<string>>([])

const recordingClient = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(HttpClient.HttpClient, (client) =>
    client.pipe(
      HttpClient.mapRequestEffect((request) =>
        Effect.map(FiberRef.get(prefer), (value) => HttpClientRequest.setHeader(request, "prefer", value))
      ),
      HttpClient.tap((response) =>
        Effect.flatMap(FiberRef.get(violations), (sink) =>
          Effect.sync(() => {
            const header = response.headers["sl-violations"]
            if (header !== undefined) sink.push(header)
          }))
      )
    ))
).pipe(Layer.provide(FetchHttpClient.layer))

const sampleInput = (operation: AnyOperation, seed: number): unknown => {
  const schema = operation.descriptor.input
  if (schema === undefined) return undefined
  return FastCheck.sample(Arbitrary.make(schema), { numRuns: 1, seed })[0]
}

interface Violation {
  readonly location: ReadonlyArray<string>
  readonly message: string
}

interface Outcome {
  readonly result: Either.Either<unknown, { readonly _tag: string; readonly message?: string }>
  readonly violations: ReadonlyArray<Violation>
}

const parseViolations = (header: string): ReadonlyArray<Violation> => JSON.parse(header) as ReadonlyArray<Violation>

/** How many generated inputs are tried before an operation counts as failed. */
const seedsPerOperation = 25

/** Prism's static examples first, then its generated bodies. */
const successModes = ["dynamic=false", "dynamic=true", "dynamic=true", "dynamic=true"]

describe.skipIf(!specPresent)("conformance with Prism (8.9)", () => {
  let prism: Prism
  let layer: Layer.Layer<CamundaClient.CamundaClient>

  beforeAll(async () => {
    prism = await startPrism()
    layer = CamundaClient.layer({
      restAddress: prism.url,
      auth: Auth.bearer(Redacted.make("conformance.test.token")),
      // every declared status must come back as its class at once, backpressure included
      retry: Retry.none
    }).pipe(Layer.provide(recordingClient))
  })
  afterAll(() => prism?.stop())

  const call = (operation: AnyOperation, input: unknown, preferValue: string): Promise<Outcome> => {
    const sink: Array<string> = []
    return (operation(input) as Effect.Effect<unknown, unknown, CamundaClient.CamundaClient>).pipe(
      Effect.either,
      Effect.map((result) => ({ result: result as Outcome["result"], violations: sink.flatMap(parseViolations) })),
      Effect.locally(prefer, preferValue),
      Effect.locally(violations, sink),
      Effect.provide(layer),
      Effect.runPromise
    )
  }

  /**
   * Finds an input Prism accepts and a success answer whose body Prism itself generated
   * validly (its `dynamic` bodies sometimes break the spec's own patterns, and it flags
   * that in `sl-violations` under `response`).
   */
  const successRun = async (operation: AnyOperation, verifyBody: boolean) => {
    let last: { input: unknown; outcome: Outcome } | undefined
    for (let seed = 1; seed <= seedsPerOperation; seed++) {
      const input = sampleInput(operation, seed)
      for (const mode of successModes) {
        const outcome = await call(operation, input, mode)
        last = { input, outcome }
        if (outcome.violations.some((v) => v.location[0] === "request")) break
        if (verifyBody && outcome.violations.some((v) => v.location[0] === "response")) continue
        return { accepted: true as const, input, outcome }
      }
    }
    return { accepted: false as const, ...last! }
  }

  it("calls every operation of the registry", { timeout: 600_000 }, async () => {
    const failures: Array<string> = []
    let passed = 0
    let partial = 0
    const ids = Object.keys(operations)
    for (const operationId of ids) {
      if (excluded[operationId] !== undefined) continue
      const operation = allOperations.get(operationId)
      if (operation === undefined) {
        failures.push(`${operationId}: in the registry but not exported by its module`)
        continue
      }
      const problems: Array<string> = []
      const verifyBody = successUnverifiable[operationId] === undefined
      const success = await successRun(operation, verifyBody)
      const describeViolations = (outcome: Outcome) => outcome.violations.map((v) => `${v.location.join(".")}: ${v.message}`).join("; ")
      if (!success.accepted) {
        problems.push(`no input of ${seedsPerOperation} was accepted: ${describeViolations(success.outcome)}`)
      } else {
        if (verifyBody && Either.isLeft(success.outcome.result)) {
          problems.push(`success call failed: ${success.outcome.result.left.message ?? success.outcome.result.left._tag}`)
        }
        for (const status of operation.descriptor.declaredErrors) {
          const failure = await call(operation, success.input, `code=${status}`)
          const tag = Either.isLeft(failure.result) ? failure.result.left._tag : "success"
          const expectedTag = status in errorByStatus ? errorByStatus[status as KnownStatus]._tag : "UnexpectedStatus"
          if (tag !== expectedTag) problems.push(`${status}: expected ${expectedTag}, got ${tag}`)
          if (failure.violations.length > 0) problems.push(`${status}: ${describeViolations(failure)}`)
        }
      }
      if (problems.length === 0 && verifyBody) passed++
      else if (problems.length === 0) partial++
      else failures.push(`${operationId} (input ${JSON.stringify(success.input)?.slice(0, 300)}):\n    ${problems.join("\n    ")}`)
    }
    const excludedLines = [
      ...Object.entries(excluded).map(([id, reason]) => `  excluded ${id}: ${reason}`),
      ...Object.entries(successUnverifiable).map(([id, reason]) => `  success body unverified ${id}: ${reason}`)
    ]
    console.log(
      `conformance: ${passed}/${ids.length} operations (success body and every declared error status), ` +
        `${partial} with error statuses only, ${Object.keys(excluded).length} excluded\n${excludedLines.join("\n")}`
    )
    expect(failures).toEqual([])
    expect(ids.length).toBe(183)
  })
})
