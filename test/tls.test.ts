/**
 * `effect-camunda/UndiciHttpClient` with TLS against a real HTTPS server on loopback that
 * requires a client certificate, with a CA, server and client certificates made at test time
 * by `openssl` (skipped when `openssl` is not on PATH).
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { CamundaClient, Keys, Retry, UserTask } from "effect-camunda"
import * as UndiciHttpClient from "effect-camunda/UndiciHttpClient"
import { clientCommonName, clientKeyPassphrase, httpsServer, type Material, makeMaterial, opensslAvailable } from "./support/tls.js"

const complete = <E>(url: string, http: Layer.Layer<HttpClient.HttpClient, E>) =>
  UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") }).pipe(
    Effect.provide(CamundaClient.layer({ restAddress: url, retry: Retry.none }).pipe(Layer.provide(http)))
  )

describe.skipIf(!opensslAvailable)(
  `UndiciHttpClient over mutual TLS${opensslAvailable ? "" : " (skipped: openssl is not on PATH, so no throwaway certificates)"}`,
  () => {
    let material: Material

    beforeAll(() => {
      material = makeMaterial()
    })
    afterAll(() => material?.remove())

    it.scoped("with the CA and a client certificate the call succeeds and the server sees the certificate", () =>
      Effect.gen(function*() {
        const { seen, url } = yield* httpsServer(material)
        yield* complete(
          url,
          UndiciHttpClient.layer({ tls: { ca: material.ca, cert: material.clientCert, key: Redacted.make(material.clientKey) } })
        )
        expect(seen).toEqual([{ method: "POST", url: "/v2/user-tasks/1/completion", clientCommonName }])
      }))

    it.scoped("without a client certificate the call is a TransportError", () =>
      Effect.gen(function*() {
        const { rejected, seen, url } = yield* httpsServer(material)
        const error = yield* Effect.flip(complete(url, UndiciHttpClient.layer({ tls: { ca: material.ca } })))
        expect(error).toMatchObject({ _tag: "TransportError", reason: "Transport" })
        expect(seen).toEqual([])
        expect(rejected.join("\n")).toMatch(/certificate/i)
      }))

    it.scoped("without the CA the server is not trusted: a TransportError", () =>
      Effect.gen(function*() {
        const { seen, url } = yield* httpsServer(material)
        const error = yield* Effect.flip(
          complete(url, UndiciHttpClient.layer({ tls: { cert: material.clientCert, key: material.clientKey } }))
        )
        expect(error).toMatchObject({ _tag: "TransportError", reason: "Transport" })
        expect(seen).toEqual([])
      }))

    it.scoped("layerConfig reads CAMUNDA_MTLS_*_PATH files and an encrypted key's passphrase", () =>
      Effect.gen(function*() {
        const { seen, url } = yield* httpsServer(material)
        yield* complete(url, UndiciHttpClient.layerConfig()).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(
            new Map([
              ["CAMUNDA_MTLS_CA_PATH", material.caPath],
              ["CAMUNDA_MTLS_CERT_PATH", material.clientCertPath],
              ["CAMUNDA_MTLS_KEY_PATH", material.clientKeyEncryptedPath],
              ["CAMUNDA_MTLS_KEY_PASSPHRASE", clientKeyPassphrase]
            ])
          ))
        )
        expect(seen).toEqual([{ method: "POST", url: "/v2/user-tasks/1/completion", clientCommonName }])
      }))

    it.scoped("layerConfig reads PEM text from CAMUNDA_MTLS_CA, _CERT and _KEY", () =>
      Effect.gen(function*() {
        const { seen, url } = yield* httpsServer(material)
        yield* complete(url, UndiciHttpClient.layerConfig()).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(
            new Map([
              ["CAMUNDA_MTLS_CA", material.ca.toString()],
              ["CAMUNDA_MTLS_CERT", material.clientCert.toString()],
              ["CAMUNDA_MTLS_KEY", material.clientKey.toString()]
            ])
          ))
        )
        expect(seen).toHaveLength(1)
        expect(seen[0]!.clientCommonName).toBe(clientCommonName)
      }))

    it.effect("tlsConfig: nothing set is no TLS setting; the key is Redacted; an unreadable file is a ConfigError", () =>
      Effect.gen(function*() {
        const none = yield* UndiciHttpClient.tlsConfig.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map())))
        expect(none).toBeUndefined()
        const read = yield* UndiciHttpClient.tlsConfig.pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["CAMUNDA_MTLS_KEY_PATH", material.clientKeyPath]])))
        )
        expect(Redacted.isRedacted(read?.key)).toBe(true)
        expect(String(read?.key)).not.toContain("PRIVATE KEY")
        const error = yield* Effect.flip(UndiciHttpClient.tlsConfig.pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["CAMUNDA_MTLS_CA_PATH", `${material.dir}/missing.pem`]])))
        ))
        expect(error).toMatchObject({ _op: "InvalidData", path: ["CAMUNDA_MTLS_CA_PATH"] })
      }))
  }
)
