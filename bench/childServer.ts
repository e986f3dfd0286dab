/**
 * The stub servers of the benchmarks run in a child process of their own, so they do not
 * share an event loop with the client being measured. Both sides of that arrangement.
 */
import { type ChildProcess, fork } from "node:child_process"
import { once } from "node:events"
import type { Server } from "node:http"
import type { AddressInfo } from "node:net"
import { entry } from "./entry.js"

/** In the parent: forks `script` (a path relative to bench/) and waits for the port it listens on. */
export const forkServer = async (
  script: string,
  args: ReadonlyArray<string> = []
): Promise<{ child: ChildProcess; port: number }> => {
  const { execArgv, path } = entry(script, import.meta.url)
  const child = fork(path, [...args], {
    execArgv: [...execArgv],
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (message: { port: number }) => resolve(message.port))
    child.once("exit", (code) => reject(new Error(`${script} exited early (code ${code})`)))
  })
  return { child, port }
}

/** In the parent: disconnects the child server and waits until it has exited. */
export const stopServer = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null) return
  const exited = once(child, "exit")
  child.disconnect()
  await exited
}

/**
 * In the child: keep-alive on, listen on a free port of 127.0.0.1, report it to the parent
 * over IPC (`{ port }`), exit when the parent disconnects.
 */
export const serveToParent = (server: Server): void => {
  server.keepAliveTimeout = 60_000
  server.headersTimeout = 61_000
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo
    process.send?.({ port })
  })
  process.on("disconnect", () => process.exit(0))
}
