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

/** Writes the `/v2`-prefixed copy of a spec and returns its path. */
export const prefixSpec = (specPath: string): string => {
  const spec = JSON.parse(fs.readFileSync(specPath, "utf8"))
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
