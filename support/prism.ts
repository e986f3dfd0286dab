/**
 * Starts Stoplight Prism, a validating mock of the Orchestration Cluster API, on
 * loopback: used by the conformance tests, the quick start and the benchmarks.
 *
 * Prism ignores the server URL's `/v2` base path, so it serves a copy of the spec whose
 * paths carry `/v2` and whose internal `#/paths/…` pointers are rewritten to match.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/** The 8.9 spec beside the project (`../shared/camunda-api`). */
export const defaultSpecPath = path.resolve(import.meta.dirname, "../../shared/camunda-api/rest-api-8.9.json")

/** A running Prism. */
export interface Prism {
  /** Base URL, with `/v2`. */
  readonly url: string
  readonly stop: () => Promise<void>
}

type Json = any

const resolveRef = (spec: Json, ref: string): Json =>
  ref.slice(2).split("/").map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((node: Json, token) => node?.[token], spec)

const isStringSchema = (spec: Json, schema: Json, depth = 0): boolean => {
  if (depth > 10 || schema === undefined) return false
  if (schema.$ref !== undefined) return isStringSchema(spec, resolveRef(spec, schema.$ref), depth + 1)
  if (schema.type === "string") return true
  return Array.isArray(schema.allOf) && schema.allOf.some((member: Json) => isStringSchema(spec, member, depth + 1))
}

/**
 * The 8.9 spec has `oneOf`s whose members are all strings of the same shape (`ResourceKey`
 * is a process-definition, decision or form key; `scopeKey` a process- or element-instance
 * key). JSON Schema's "exactly one" makes every value invalid there, so Prism would reject
 * every request or flag every answer. The served copy reads those as `anyOf`, which is what
 * the API means; nothing else changes.
 */
const relaxStringOneOfs = (spec: Json, node: Json): void => {
  if (Array.isArray(node)) {
    for (const item of node) relaxStringOneOfs(spec, item)
    return
  }
  if (typeof node !== "object" || node === null) return
  if (Array.isArray(node.oneOf) && node.discriminator === undefined &&
    node.oneOf.every((member: Json) => isStringSchema(spec, member))) {
    node.anyOf = node.oneOf
    delete node.oneOf
  }
  for (const value of Object.values(node)) relaxStringOneOfs(spec, value)
}

const isFileArray = (schema: Json): boolean =>
  schema?.type === "array" && schema.items?.type === "string" && schema.items.format === "binary"

/** Each array of files in a multipart request body of `spec`: the operation, the field's name, the body's content. */
function* multipartFileArrays(spec: Json): Generator<{ readonly operationId: string; readonly name: string; readonly content: Json }> {
  for (const item of Object.values(spec.paths ?? {}) as Array<Json>) {
    for (const operation of Object.values(item) as Array<Json>) {
      const content = operation?.requestBody?.content?.["multipart/form-data"]
      for (const [name, schema] of Object.entries((content?.schema?.properties ?? {}) as Record<string, Json>)) {
        if (isFileArray(schema)) yield { operationId: operation.operationId, name, content }
      }
    }
  }
}

/** The arrays of files in multipart request bodies of `spec`, by operation: what Prism reads only the last part of. */
export const fileArrays = (spec: Json): Record<string, Array<string>> => {
  const found: Record<string, Array<string>> = {}
  for (const { name, operationId } of multipartFileArrays(spec)) (found[operationId] ??= []).push(name)
  return found
}

/**
 * Prism's multipart parser keeps only the last part of a name, so an array of files (sent, as
 * OpenAPI says, as one part per file under the same name) reaches its validator as one string
 * and fails "must be array" whatever the client sends. In the served copy such a field gets
 * the `form` style with `explode`, which makes Prism's deserializer wrap that value in an
 * array. OpenAPI applies `style` only to URL-encoded bodies, so for multipart this changes
 * nothing in what the API means; Prism then sees the last file as a one-element array (the
 * conformance test counts the parts itself).
 */
const readFileArraysAsArrays = (spec: Json): void => {
  for (const { content, name } of multipartFileArrays(spec)) {
    content.encoding = { ...content.encoding, [name]: { ...content.encoding?.[name], style: "form", explode: true } }
  }
}

/**
 * Prism's body generator (json-schema-faker) cannot write a pattern with Unicode property
 * escapes: it reads `[\p{L}_]` as the characters `p`, `{`, `L`, `}` and `_`, so nearly every
 * id it makes for such a field breaks the pattern, and Prism flags its own answer. In the
 * served copy such a string schema gets the generation hint `x-faker: lorem.word` (a lower-case
 * word) when a word is valid there; validation is unchanged.
 */
const hintUnicodePatterns = (node: Json): void => {
  if (Array.isArray(node)) {
    for (const item of node) hintUnicodePatterns(item)
    return
  }
  if (typeof node !== "object" || node === null) return
  if (node.type === "string" && typeof node.pattern === "string" && node.pattern.includes("\\p{") &&
    node["x-faker"] === undefined && new RegExp(node.pattern, "u").test("camunda")) {
    node["x-faker"] = "lorem.word"
  }
  for (const value of Object.values(node)) hintUnicodePatterns(value)
}

/** Writes the copy of a spec that Prism serves (paths under `/v2`) and returns its path. */
export const prefixSpec = (specPath: string): string => {
  const spec = JSON.parse(fs.readFileSync(specPath, "utf8"))
  relaxStringOneOfs(spec, spec)
  readFileArraysAsArrays(spec)
  hintUnicodePatterns(spec)
  spec.paths = Object.fromEntries(Object.entries(spec.paths).map(([key, value]) => [`/v2${key}`, value]))
  delete spec.servers
  const text = JSON.stringify(spec).replaceAll("\"#/paths/~1", "\"#/paths/~1v2~1")
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "prism-")), path.basename(specPath))
  fs.writeFileSync(file, text)
  return file
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

const prismBin = (): string => {
  const require = createRequire(import.meta.url)
  const pkg = require.resolve("@stoplight/prism-cli/package.json")
  return path.join(path.dirname(pkg), "dist", "index.js")
}

const waitForPort = async (port: number, child: ChildProcess, output: () => string, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Prism exited with ${child.exitCode}:\n${output()}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1")
      socket.once("connect", () => {
        socket.destroy()
        resolve(true)
      })
      socket.once("error", () => resolve(false))
    })
    if (open) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`Prism did not listen on ${port} within ${timeoutMs} ms:\n${output()}`)
}

/** Starts Prism on a free loopback port (`errors: true` answers 4xx for invalid requests). */
export const startPrism = async (options: { readonly specPath?: string; readonly timeoutMs?: number } = {}): Promise<Prism> => {
  const spec = prefixSpec(options.specPath ?? defaultSpecPath)
  const port = await freePort()
  const child = spawn(process.execPath, [prismBin(), "mock", spec, "--host", "127.0.0.1", "--port", String(port)], {
    stdio: ["ignore", "pipe", "pipe"]
  })
  let log = ""
  child.stdout?.on("data", (chunk) => {
    log = (log + String(chunk)).slice(-20_000)
  })
  child.stderr?.on("data", (chunk) => {
    log = (log + String(chunk)).slice(-20_000)
  })
  await waitForPort(port, child, () => log, options.timeoutMs ?? 60_000)
  return {
    url: `http://127.0.0.1:${port}/v2`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once("exit", () => resolve())
        child.kill("SIGTERM")
      })
  }
}
