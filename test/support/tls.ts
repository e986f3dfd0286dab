/**
 * Throwaway TLS material for tests, made with `openssl` at test time in a temporary
 * directory (no key is committed), and an HTTPS server on loopback that requires a client
 * certificate signed by the throwaway CA.
 */
import * as Effect from "effect/Effect"
import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type Server } from "node:https"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TLSSocket } from "node:tls"

/** Whether `openssl` can be run from PATH. */
export const opensslAvailable: boolean = (() => {
  try {
    return spawnSync("openssl", ["version"], { stdio: "ignore" }).status === 0
  } catch {
    return false
  }
})()

/** The CN of the client certificate. */
export const clientCommonName = "effect-camunda-test-client"

/** The passphrase of `clientKeyEncryptedPath`. */
export const clientKeyPassphrase = "throwaway-passphrase"

export interface Material {
  readonly dir: string
  readonly caPath: string
  readonly ca: Buffer
  readonly serverCert: Buffer
  readonly serverKey: Buffer
  readonly clientCertPath: string
  readonly clientCert: Buffer
  readonly clientKeyPath: string
  readonly clientKey: Buffer
  /** The client key encrypted with {@link clientKeyPassphrase}. */
  readonly clientKeyEncryptedPath: string
  /** Deletes the directory. */
  readonly remove: () => void
}

const openssl = (dir: string, ...args: Array<string>) => {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] })
}

/**
 * A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all EC P-256
 * and valid for one day, in a new temporary directory.
 */
export const makeMaterial = (): Material => {
  const dir = mkdtempSync(join(tmpdir(), "effect-camunda-tls-"))
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(dir, "req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=effect-camunda test CA",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    const issue = (name: string, subject: string, extensions: string, serial: string) => {
      writeFileSync(join(dir, `${name}.ext`), extensions)
      openssl(dir, "req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject)
      openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", serial,
        "-days", "1", "-out", `${name}.crt`, "-extfile", `${name}.ext`)
    }
    issue("server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n", "2")
    issue("client", `/CN=${clientCommonName}`, "extendedKeyUsage=clientAuth\n", "3")
    openssl(dir, "pkey", "-in", "client.key", "-aes256", "-passout", `pass:${clientKeyPassphrase}`, "-out", "client-encrypted.key")
    const read = (file: string) => readFileSync(join(dir, file))
    return {
      dir,
      caPath: join(dir, "ca.crt"),
      ca: read("ca.crt"),
      serverCert: read("server.crt"),
      serverKey: read("server.key"),
      clientCertPath: join(dir, "client.crt"),
      clientCert: read("client.crt"),
      clientKeyPath: join(dir, "client.key"),
      clientKey: read("client.key"),
      clientKeyEncryptedPath: join(dir, "client-encrypted.key"),
      remove: () => rmSync(dir, { recursive: true, force: true })
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

export interface Seen {
  readonly method: string
  readonly url: string
  /** The CN of the client certificate the request came with. */
  readonly clientCommonName: string | undefined
}

export interface HttpsLoopback {
  readonly url: string
  /** Every request the server answered. */
  readonly seen: Array<Seen>
  /** The messages of failed TLS handshakes, as the server saw them. */
  readonly rejected: Array<string>
}

/**
 * An HTTPS server on 127.0.0.1 that requires a client certificate signed by the CA and
 * answers 204 to `POST /v2/user-tasks/1/completion`, 404 otherwise; closed with the scope.
 */
export const httpsServer = (material: Material) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.async<{ readonly server: Server; readonly seen: Array<Seen>; readonly rejected: Array<string> }>((resume) => {
        const seen: Array<Seen> = []
        const rejected: Array<string> = []
        const server = createServer(
          { ca: material.ca, cert: material.serverCert, key: material.serverKey, requestCert: true, rejectUnauthorized: true },
          (request, response) => {
            const peer = (request.socket as TLSSocket).getPeerCertificate()
            const cn = peer?.subject?.CN
            seen.push({ method: request.method!, url: request.url!, clientCommonName: Array.isArray(cn) ? cn.join(",") : cn })
            request.resume()
            request.on("end", () => {
              const ok = request.method === "POST" && request.url === "/v2/user-tasks/1/completion"
              response.writeHead(ok ? 204 : 404).end()
            })
          }
        )
        server.on("tlsClientError", (error) => rejected.push(error.message))
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, seen, rejected })))
      }),
      ({ server }) =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    ),
    ({ rejected, seen, server }): HttpsLoopback => ({
      url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
      seen,
      rejected
    })
  )
