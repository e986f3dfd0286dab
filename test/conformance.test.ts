/**
 * Conformance against Stoplight Prism serving the 8.9 spec: every operation is called
 * with an input generated from its own schema; Prism must report no contract violation,
 * the success body must decode, and every declared error status must come back as the
 * right error class. Nothing is excluded. Where Prism cannot read or write what the spec
 * says, the copy of the spec it serves carries a shim (`support/prism.ts`, each explained
 * there) that changes no rule it checks.
 *
 * `CONFORMANCE_ONLY=opA,opB` runs a subset while developing.
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
import { defaultSpecPath, fileArrays, type Prism, startPrism } from "../support/prism.js"
import { allOperations, type AnyOperation } from "./support/operations.js"

/**
 * The arrays of files in multipart request bodies. Prism's multipart parser keeps only the
 * last part of a name, so the copy of the spec it serves reads such a field as a one-element
 * array (`support/prism.ts`), and the run counts the parts itself (`checkFileArrays`). A test
 * below checks this list against the fields the shim finds in the spec, so it cannot fall behind.
 */
const fileArrayFields: Record<string, ReadonlyArray<string>> = {
  createDeployment: ["resources"],
  createDocuments: ["files"]
}

const isBinary = (value: unknown): boolean => value instanceof Uint8Array || value instanceof Blob

/**
 * What Prism cannot check of a multipart body: each array of files in the input went out as
 * one part per file, under the field's name. Returns the problems found.
 */
const checkFileArrays = (operationId: string, input: unknown, form: FormData | undefined): Array<string> => {
  const fields = fileArrayFields[operationId] ?? []
  if (fields.length === 0) return []
  if (form === undefined) return ["no multipart form was sent"]
  return fields.flatMap((field) => {
    const files = (input as Record<string, unknown>)[field]
    const parts = form.getAll(field)
    const expected = Array.isArray(files) ? files.filter(isBinary).length : 0
    return parts.length === expected && parts.every((part) => part instanceof Blob)
      ? []
      : [`${field}: ${expected} file(s) in the input, ${parts.length} part(s) sent`]
  })
}

const specPresent = fs.existsSync(defaultSpecPath)

if (!specPresent) console.warn(`conformance: skipped, ${defaultSpecPath} is absent (../shared is not beside the project)`)

/**
 * The `Prefer` header of the current call, where Prism's `sl-violations` of the call go, and
 * where its multipart form goes.
 */
const prefer = FiberRef.unsafeMake("dynamic=true")
const violations = FiberRef.unsafeMake<Array<string>>([])
const forms = FiberRef.unsafeMake<Array<FormData>>([])

const recordingClient = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(HttpClient.HttpClient, (client) =>
    client.pipe(
      HttpClient.mapRequestEffect((request) =>
        Effect.flatMap(FiberRef.get(forms), (sink) => {
          if (request.body._tag === "FormData") sink.push(request.body.formData)
          return Effect.map(FiberRef.get(prefer), (value) => HttpClientRequest.setHeader(request, "prefer", value))
        })
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
  /** The multipart form sent, if any. */
  readonly form: FormData | undefined
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
    const sent: Array<FormData> = []
    return (operation(input) as Effect.Effect<unknown, unknown, CamundaClient.CamundaClient>).pipe(
      Effect.either,
      Effect.map((result) => ({ result: result as Outcome["result"], violations: sink.flatMap(parseViolations), form: sent[0] })),
      Effect.locally(prefer, preferValue),
      Effect.locally(violations, sink),
      Effect.locally(forms, sent),
      Effect.provide(layer),
      Effect.runPromise
    )
  }

  /**
   * Finds an input Prism accepts and a success answer whose body Prism itself generated
   * validly (its `dynamic` bodies sometimes break the spec's own patterns, and it flags
   * that in `sl-violations` under `response`).
   */
  const successRun = async (operation: AnyOperation) => {
    let last: { input: unknown; outcome: Outcome } | undefined
    for (let seed = 1; seed <= seedsPerOperation; seed++) {
      const input = sampleInput(operation, seed)
      for (const mode of successModes) {
        const outcome = await call(operation, input, mode)
        last = { input, outcome }
        if (outcome.violations.some((v) => v.location[0] === "request")) break
        if (outcome.violations.some((v) => v.location[0] === "response")) continue
        return { accepted: true as const, input, outcome }
      }
    }
    return { accepted: false as const, ...last! }
  }

  it("counts the parts of every array of files in a multipart body of the spec", () => {
    expect(fileArrays(JSON.parse(fs.readFileSync(defaultSpecPath, "utf8")))).toEqual(fileArrayFields)
  })

  it("calls every operation of the registry", { timeout: 600_000 }, async () => {
    const failures: Array<string> = []
    let passed = 0
    const ids = Object.keys(operations)
    const only = process.env["CONFORMANCE_ONLY"]?.split(",")
    for (const operationId of ids) {
      if (only !== undefined && !only.includes(operationId)) continue
      const operation = allOperations.get(operationId)
      if (operation === undefined) {
        failures.push(`${operationId}: in the registry but not exported by its module`)
        continue
      }
      const problems: Array<string> = []
      const success = await successRun(operation)
      const describeViolations = (outcome: Outcome) => outcome.violations.map((v) => `${v.location.join(".")}: ${v.message}`).join("; ")
      if (!success.accepted) {
        problems.push(`no input of ${seedsPerOperation} was accepted: ${describeViolations(success.outcome)}`)
      } else {
        if (Either.isLeft(success.outcome.result)) {
          problems.push(`success call failed: ${success.outcome.result.left.message ?? success.outcome.result.left._tag}`)
        }
        problems.push(...checkFileArrays(operationId, success.input, success.outcome.form))
        for (const status of operation.descriptor.declaredErrors) {
          const failure = await call(operation, success.input, `code=${status}`)
          const tag = Either.isLeft(failure.result) ? failure.result.left._tag : "success"
          const expectedTag = status in errorByStatus ? errorByStatus[status as KnownStatus]._tag : "UnexpectedStatus"
          if (tag !== expectedTag) problems.push(`${status}: expected ${expectedTag}, got ${tag}`)
          if (failure.violations.length > 0) problems.push(`${status}: ${describeViolations(failure)}`)
        }
      }
      if (problems.length === 0) passed++
      else failures.push(`${operationId} (input ${JSON.stringify(success.input)?.slice(0, 300)}):\n    ${problems.join("\n    ")}`)
    }
    const notes = Object.entries(fileArrayFields).map(([id, fields]) =>
      `  ${id} (${fields.join(", ")}): the test counted the files' parts; Prism reads the last part only`
    )
    console.log(
      `conformance: ${passed}/${ids.length} operations (success body and every declared error status), none excluded\n` +
        notes.join("\n")
    )
    expect(failures).toEqual([])
    expect(ids.length).toBe(183)
  })
})
