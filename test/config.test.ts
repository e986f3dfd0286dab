/**
 * Settings: the `/v2` rule, the official environment names, auth inference, and secrets
 * that stay `Redacted`.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { CamundaClient, CamundaConfig, Keys, UserTask } from "effect-camunda"
import { mockHttp } from "./support/mockHttp.js"

const fromEnv = (env: Record<string, string>) => Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

const resolvedFrom = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const http = mockHttp(() => new Response(null, { status: 204 }))
    const client = yield* CamundaClient.CamundaClient.pipe(
      Effect.provide(CamundaClient.layerConfig().pipe(Layer.provide(http.httpLayer))),
      fromEnv(env)
    )
    return client.config
  })

describe("restAddress", () => {
  it("appends /v2 when missing and drops trailing slashes", () => {
    expect(CamundaConfig.normalizeRestAddress("http://localhost:8080")).toBe("http://localhost:8080/v2")
    expect(CamundaConfig.normalizeRestAddress("http://localhost:8080/")).toBe("http://localhost:8080/v2")
    expect(CamundaConfig.normalizeRestAddress("https://x.example/v2/")).toBe("https://x.example/v2")
    expect(CamundaConfig.normalizeRestAddress("https://gw.example/cluster-1")).toBe("https://gw.example/cluster-1/v2")
  })

  it.effect("layer({ restAddress }) sends requests under /v2", () => {
    const http = mockHttp(() => new Response(null, { status: 204 }))
    return UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") }).pipe(
      Effect.provide(http.layer({ restAddress: "http://localhost:8080" })),
      Effect.map(() => expect(http.requests[0]!.url.href).toBe("http://localhost:8080/v2/user-tasks/1/completion"))
    )
  })
})

describe("layerConfig", () => {
  it.effect("defaults to http://localhost:8080/v2 with no auth", () =>
    Effect.gen(function*() {
      const config = yield* resolvedFrom({})
      expect(config.restAddress).toBe("http://localhost:8080/v2")
      expect(config.auth._tag).toBe("None")
      expect(Option.isNone(config.defaultTenantId)).toBe(true)
    }))

  it.effect("reads CAMUNDA_REST_ADDRESS, its alias ZEEBE_REST_ADDRESS and CAMUNDA_DEFAULT_TENANT_ID", () =>
    Effect.gen(function*() {
      expect((yield* resolvedFrom({ CAMUNDA_REST_ADDRESS: "http://c:8080" })).restAddress).toBe("http://c:8080/v2")
      expect((yield* resolvedFrom({ ZEEBE_REST_ADDRESS: "http://z:8080/v2" })).restAddress).toBe("http://z:8080/v2")
      expect((yield* resolvedFrom({ CAMUNDA_DEFAULT_TENANT_ID: "acme" })).defaultTenantId).toEqual(Option.some("acme"))
    }))

  it.effect("infers basic auth from the username; the password stays Redacted", () =>
    Effect.gen(function*() {
      const config = yield* resolvedFrom({ CAMUNDA_BASIC_AUTH_USERNAME: "demo", CAMUNDA_BASIC_AUTH_PASSWORD: "s3cret" })
      expect(config.auth._tag).toBe("Basic")
      if (config.auth._tag !== "Basic") return
      expect(Redacted.value(config.auth.password)).toBe("s3cret")
      expect(JSON.stringify(config)).not.toContain("s3cret")
      expect(String(config.auth.password)).not.toContain("s3cret")
    }))

  it.effect("BASIC without a password is a ConfigError naming the variable", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolvedFrom({ CAMUNDA_AUTH_STRATEGY: "BASIC", CAMUNDA_BASIC_AUTH_USERNAME: "demo" }))
      expect(String(error)).toContain("CAMUNDA_BASIC_AUTH_PASSWORD")
    }))

  it.effect("OAUTH (explicit or inferred from CAMUNDA_CLIENT_ID) needs its variables; the secret stays Redacted", () =>
    Effect.gen(function*() {
      const explicit = yield* Effect.flip(resolvedFrom({ CAMUNDA_AUTH_STRATEGY: "OAUTH" }))
      expect(String(explicit)).toContain("CAMUNDA_OAUTH_URL")
      const inferred = yield* Effect.flip(resolvedFrom({ CAMUNDA_CLIENT_ID: "id", CAMUNDA_CLIENT_SECRET: "t0p-s3cret" }))
      expect(String(inferred)).toContain("CAMUNDA_OAUTH_URL")
      expect(String(inferred)).not.toContain("t0p-s3cret")
      const noSecret = yield* Effect.flip(
        resolvedFrom({ CAMUNDA_CLIENT_ID: "id", CAMUNDA_OAUTH_URL: "http://login.test/oauth/token" })
      )
      expect(String(noSecret)).toContain("CAMUNDA_CLIENT_SECRET")
      const config = yield* resolvedFrom({
        CAMUNDA_CLIENT_ID: "id",
        CAMUNDA_CLIENT_SECRET: "t0p-s3cret",
        CAMUNDA_OAUTH_URL: "http://login.test/oauth/token"
      })
      expect(config.auth._tag).toBe("OAuth")
      expect(JSON.stringify(config)).not.toContain("t0p-s3cret")
    }))

  it.effect("reads CAMUNDA_SDK_BACKPRESSURE_PROFILE (default BALANCED); an unknown profile is an error", () =>
    Effect.gen(function*() {
      expect((yield* resolvedFrom({})).backpressure.name).toBe("BALANCED")
      for (const name of ["CONSERVATIVE", "AGGRESSIVE", "LEGACY"] as const) {
        const profile = (yield* resolvedFrom({ CAMUNDA_SDK_BACKPRESSURE_PROFILE: name })).backpressure
        expect(profile.name).toBe(name)
        expect(profile.observeOnly).toBe(name === "LEGACY")
      }
      const error = yield* Effect.flip(resolvedFrom({ CAMUNDA_SDK_BACKPRESSURE_PROFILE: "TURBO" }))
      expect(String(error)).toContain("CAMUNDA_SDK_BACKPRESSURE_PROFILE")
    }))

  it.effect("an unknown strategy is an error, not a silent fallback", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolvedFrom({ CAMUNDA_AUTH_STRATEGY: "KERBEROS" }))
      expect(String(error)).toContain("CAMUNDA_AUTH_STRATEGY")
    }))
})
