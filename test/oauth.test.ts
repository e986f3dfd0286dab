/**
 * OAuth 2 client credentials, driven by TestClock over an in-memory HttpClient that
 * serves both the token endpoint and the API: one token request however many calls
 * need it, reuse until near expiry, one refresh after a 401, bounded retries of the
 * token endpoint, and an AuthError that never carries the secret.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { Auth, CamundaClient, Keys, Retry, UserTask } from "effect-camunda"
import { runWithClock } from "./support/clock.js"

const tokenUrl = "http://login.test/oauth/token"
const secret = "t0p-s3cret"

interface Seen {
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly form: URLSearchParams | undefined
}

/**
 * `token(n)` answers the n-th token request (1-based), after `tokenDelay` on the Clock;
 * `api(seen)` answers each API request.
 */
const server = (options: {
  readonly token: (n: number, seen: Seen) => Response
  readonly api?: (seen: Seen) => Response
  readonly tokenDelay?: Duration.DurationInput
  /** How long the API takes to answer a request, on the Clock. */
  readonly apiDelay?: (seen: Seen) => Duration.DurationInput
}) => {
  const tokenRequests: Array<Seen> = []
  const apiRequests: Array<Seen> = []
  const http = HttpClient.make((request, url) =>
    Effect.suspend(() => {
      const body = request.body
      const seen: Seen = {
        url,
        headers: { ...request.headers, ...(body._tag === "Uint8Array" ? { "content-type": body.contentType } : {}) },
        form: body._tag === "Uint8Array" ? new URLSearchParams(new TextDecoder().decode(body.body)) : undefined
      }
      if (url.href === tokenUrl) {
        tokenRequests.push(seen)
        const n = tokenRequests.length
        return Effect.as(Effect.sleep(options.tokenDelay ?? 0), HttpClientResponse.fromWeb(request, options.token(n, seen)))
      }
      apiRequests.push(seen)
      const answer = (options.api ?? (() => new Response(null, { status: 204 })))(seen)
      return Effect.as(Effect.sleep(options.apiDelay?.(seen) ?? 0), HttpClientResponse.fromWeb(request, answer))
    })
  )
  const httpLayer = Layer.succeed(HttpClient.HttpClient, http)
  const layer = CamundaClient.layer({
    restAddress: "http://camunda.test",
    retry: Retry.none,
    auth: Auth.oauth({ oauthUrl: tokenUrl, clientId: "my-client", clientSecret: Redacted.make(secret) })
  }).pipe(Layer.provide(httpLayer))
  return { tokenRequests, apiRequests, httpLayer, layer }
}

const token = (n: number, expiresIn: number = 300) =>
  new Response(JSON.stringify({ access_token: `token-${n}`, token_type: "Bearer", expires_in: expiresIn }), {
    status: 200,
    headers: { "content-type": "application/json" }
  })

const complete = UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") })


describe("OAuth token provider", () => {
  it.effect("50 concurrent calls with a cold token make exactly one token request", () =>
    Effect.gen(function*() {
      const s = server({ token: (n) => token(n), tokenDelay: "100 millis" })
      const result = yield* runWithClock(
        Effect.forEach(Array.from({ length: 50 }, () => complete), (call) => call, { concurrency: "unbounded" }).pipe(
          Effect.provide(s.layer)
        )
      )
      expect(result._tag).toBe("Right")
      expect(s.tokenRequests).toHaveLength(1)
      expect(s.apiRequests).toHaveLength(50)
      for (const request of s.apiRequests) expect(request.headers.authorization).toBe("Bearer token-1")
      // the token request is a form POST to the oauth URL, not under the API's base URL
      const form = s.tokenRequests[0]!
      expect(form.headers["content-type"]).toBe("application/x-www-form-urlencoded")
      expect(form.headers.authorization).toBeUndefined()
      expect(form.form?.get("grant_type")).toBe("client_credentials")
      expect(form.form?.get("client_id")).toBe("my-client")
      expect(form.form?.get("client_secret")).toBe(secret)
      expect(form.form?.has("audience")).toBe(false)
      expect(form.form?.has("scope")).toBe(false)
    }))

  it.effect("a token is reused until near its expiry, then refreshed", () =>
    Effect.gen(function*() {
      // expires_in 300 s: replaced 30 s early (10 %, capped at 60 s)
      const s = server({ token: (n) => token(n, 300) })
      const client = yield* Layer.build(s.layer)
      const call = Effect.provide(complete, client)
      yield* call
      yield* TestClock.adjust("200 seconds")
      yield* call
      yield* TestClock.adjust("69 seconds")
      yield* call
      expect(s.tokenRequests).toHaveLength(1)
      yield* TestClock.adjust("2 seconds")
      yield* call
      expect(s.tokenRequests).toHaveLength(2)
      expect(s.apiRequests.map((r) => r.headers.authorization)).toEqual([
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2"
      ])
    }).pipe(Effect.scoped))

  it.effect("an API 401 drops the token, fetches a new one and repeats the call once", () =>
    Effect.gen(function*() {
      const s = server({
        token: (n) => token(n),
        api: (seen) =>
          seen.headers.authorization === "Bearer token-1"
            ? new Response(null, { status: 401 })
            : new Response(null, { status: 204 })
      })
      yield* Effect.provide(complete, s.layer)
      expect(s.apiRequests).toHaveLength(2)
      expect(s.tokenRequests).toHaveLength(2)
    }))

  it.effect("50 concurrent calls whose token is revoked: one new token request, each call repeated once", () =>
    Effect.gen(function*() {
      let revoked = false
      const s = server({
        token: (n) => token(n),
        api: (seen) =>
          revoked && seen.headers.authorization === "Bearer token-1"
            ? new Response(null, { status: 401 })
            : new Response(null, { status: 204 })
      })
      yield* Effect.gen(function*() {
        yield* complete
        revoked = true
        yield* Effect.all(Array.from({ length: 50 }, () => complete), { concurrency: "unbounded" })
      }).pipe(Effect.provide(s.layer))
      expect(s.tokenRequests).toHaveLength(2)
      expect(s.apiRequests).toHaveLength(101)
      expect(s.apiRequests.slice(1).filter((seen) => seen.headers.authorization === "Bearer token-2")).toHaveLength(50)
    }))

  it.effect("a 401 that comes back after the token was already renewed does not drop the new token", () =>
    Effect.gen(function*() {
      let revoked = false
      const slow = UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("2") })
      const s = server({
        token: (n) => token(n),
        api: (seen) =>
          revoked && seen.headers.authorization === "Bearer token-1"
            ? new Response(null, { status: 401 })
            : new Response(null, { status: 204 }),
        apiDelay: (seen) => (seen.url.pathname.includes("/2/") && seen.headers.authorization === "Bearer token-1" ? "1 second" : 0)
      })
      const result = yield* Effect.gen(function*() {
        yield* complete
        revoked = true
        // the slow call goes out with token-1; the fast one meets the 401 first and renews the token
        return yield* runWithClock(Effect.all([slow, complete], { concurrency: "unbounded" }), "100 millis")
      }).pipe(Effect.provide(s.layer))
      expect(result._tag).toBe("Right")
      expect(s.tokenRequests).toHaveLength(2)
    }))

  it.effect("a second 401 is not repeated again", () =>
    Effect.gen(function*() {
      const s = server({ token: (n) => token(n), api: () => new Response(null, { status: 401 }) })
      const error = yield* Effect.flip(Effect.provide(complete, s.layer))
      expect(["Unauthorized", "UnexpectedStatus"]).toContain(error._tag)
      expect(s.apiRequests).toHaveLength(2)
      expect(s.tokenRequests).toHaveLength(2)
    }))

  it.effect("a token endpoint that fails twice (500) and recovers is retried with backoff", () =>
    Effect.gen(function*() {
      const s = server({ token: (n) => n <= 2 ? new Response("down", { status: 500 }) : token(n) })
      const result = yield* runWithClock(Effect.provide(complete, s.layer))
      expect(result._tag).toBe("Right")
      expect(s.tokenRequests).toHaveLength(3)
      expect(s.apiRequests).toHaveLength(1)
      expect(s.apiRequests[0]!.headers.authorization).toBe("Bearer token-3")
    }))

  it.effect("a token endpoint that keeps failing gives up after bounded retries", () =>
    Effect.gen(function*() {
      const s = server({ token: () => new Response("down", { status: 503 }) })
      const result = yield* runWithClock(Effect.provide(complete, s.layer))
      expect(result._tag).toBe("Left")
      expect(s.tokenRequests).toHaveLength(4)
      expect(s.apiRequests).toHaveLength(0)
    }))

  it.effect("a refused token request fails the call with an AuthError cause that never shows the secret", () =>
    Effect.gen(function*() {
      // the endpoint even echoes the form it received
      const s = server({
        token: (_, seen) => new Response(`invalid_client: ${seen.form?.toString()}`, { status: 401 })
      })
      const error = yield* Effect.flip(Effect.provide(complete, s.layer))
      expect(error._tag).toBe("TransportError")
      if (error._tag !== "TransportError") return
      expect(error.reason).toBe("Transport")
      const requestError = error.cause as HttpClientError.RequestError
      expect(requestError._tag).toBe("RequestError")
      const authError = requestError.cause
      expect(authError).toBeInstanceOf(Auth.AuthError)
      if (!(authError instanceof Auth.AuthError)) return
      expect(authError.status).toBe(401)
      expect(authError.message).toContain("401")
      expect(authError.message).toContain("invalid_client")
      for (const text of [authError.message, error.message, String(error), JSON.stringify(authError)]) {
        expect(text).not.toContain(secret)
      }
      // a 401 from the token endpoint is not retried, and the API is never called
      expect(s.tokenRequests).toHaveLength(1)
      expect(s.apiRequests).toHaveLength(0)
    }))
})

describe("OAuth from the environment", () => {
  const env = {
    CAMUNDA_REST_ADDRESS: "http://camunda.test",
    CAMUNDA_OAUTH_URL: tokenUrl,
    CAMUNDA_CLIENT_ID: "env-client",
    CAMUNDA_CLIENT_SECRET: secret,
    CAMUNDA_TOKEN_AUDIENCE: "zeebe-api",
    CAMUNDA_TOKEN_SCOPE: "camunda"
  }
  const fromEnv = (vars: Record<string, string>) =>
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(vars))))

  it.effect("layerConfig builds OAuth auth and sends audience and scope", () =>
    Effect.gen(function*() {
      const s = server({ token: (n) => token(n) })
      const layer = CamundaClient.layerConfig().pipe(Layer.provide(s.httpLayer))
      const config = yield* Effect.map(CamundaClient.CamundaClient, (client) => client.config).pipe(
        Effect.provide(layer),
        fromEnv(env)
      )
      expect(config.auth._tag).toBe("OAuth")
      if (config.auth._tag !== "OAuth") return
      expect(config.auth.oauthUrl).toBe(tokenUrl)
      expect(config.auth.clientId).toBe("env-client")
      expect(Redacted.value(config.auth.clientSecret)).toBe(secret)
      expect(JSON.stringify(config)).not.toContain(secret)

      yield* complete.pipe(Effect.provide(layer), fromEnv(env))
      const form = s.tokenRequests[0]!.form!
      expect(form.get("client_id")).toBe("env-client")
      expect(form.get("audience")).toBe("zeebe-api")
      expect(form.get("scope")).toBe("camunda")
      expect(s.apiRequests[0]!.headers.authorization).toBe("Bearer token-1")
    }))

  it.effect("a missing CAMUNDA_OAUTH_URL is a ConfigError naming it", () =>
    Effect.gen(function*() {
      const s = server({ token: (n) => token(n) })
      const { CAMUNDA_OAUTH_URL: _, ...rest } = env
      const error = yield* Effect.flip(
        CamundaClient.CamundaClient.pipe(
          Effect.provide(CamundaClient.layerConfig().pipe(Layer.provide(s.httpLayer))),
          fromEnv(rest)
        )
      )
      expect(ConfigError.isConfigError(error)).toBe(true)
      expect(String(error)).toContain("CAMUNDA_OAUTH_URL")
    }))
})
