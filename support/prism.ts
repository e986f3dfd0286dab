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

/** Writes the copy of a spec that Prism serves (paths under `/v2`) and returns its path. */
export const prefixSpec = (specPath: string): string => {
  const spec = JSON.parse(fs.readFileSync(specPath, "utf8"))
  relaxStringOneOfs(spec, spec)
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
