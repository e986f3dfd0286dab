import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Redacted from "effect/Redacted"
import * as SynchronizedRef from "effect/SynchronizedRef"
import { AuthError, type OAuth } from "../Auth.js"
import { tokenRequestSchedule } from "../Retry.js"
import { currentTokenCell } from "./tokenCell.js"

/** @internal */
export interface TokenProvider {
  /** A valid access token: the cached one, or a fresh one (one request in flight at most). */
  readonly get: Effect.Effect<Redacted.Redacted<string>, AuthError>
  /**
   * Drops the cached token if it is `token` (or whatever is cached, for `undefined`), so the
   * next `get` fetches a new one.
   */
  readonly invalidate: (token: Redacted.Redacted<string> | undefined) => Effect.Effect<void>
}

type State =
  | { readonly _tag: "Empty" }
  | { readonly _tag: "Fetching"; readonly deferred: Deferred.Deferred<Redacted.Redacted<string>, AuthError> }
  | { readonly _tag: "Ready"; readonly token: Redacted.Redacted<string>; readonly expiresAt: number }

const empty: State = { _tag: "Empty" }

/** How long before `expires_in` a token is replaced: 10 %, at most 60 s, at least 1 s. */
export const safetyMargin = (expiresInMillis: number): number => Math.max(1_000, Math.min(expiresInMillis * 0.1, 60_000))

/** Token requests that failed this way are retried: no answer, 429 or 5xx. */
const retryable = (error: AuthError) => error.status === undefined || error.status === 429 || error.status >= 500


/** Keeps the secret out of anything quoted from the token endpoint. */
const scrub = (auth: OAuth, text: string): string => {
  const secret = Redacted.value(auth.clientSecret)
  const clipped = text.length > 300 ? `${text.slice(0, 300)}…` : text
  return secret.length === 0 ? clipped : clipped.split(secret).join("<redacted>")
}

interface Token {
  readonly token: Redacted.Redacted<string>
  readonly expiresInMillis: number | undefined
}

/** One token request, no retries. */
const requestToken = (
  auth: OAuth,
  httpClient: HttpClient.HttpClient,
  timeout: Duration.Duration
): Effect.Effect<Token, AuthError> => {
  const fail = (description: string, status?: number) =>
    new AuthError({ oauthUrl: auth.oauthUrl, status, description: scrub(auth, description) })
  const params: Record<string, string> = {
    grant_type: "client_credentials",
    client_id: auth.clientId,
    client_secret: Redacted.value(auth.clientSecret)
  }
  if (auth.audience !== undefined) params.audience = auth.audience
  if (auth.scope !== undefined) params.scope = auth.scope
  const request = HttpClientRequest.post(auth.oauthUrl).pipe(
    HttpClientRequest.acceptJson,
    HttpClientRequest.bodyUrlParams(params)
  )
  return httpClient.execute(request).pipe(
    // the HttpClientError holds the request, whose body holds the secret: keep only its message
    Effect.mapError((error) => fail(error.message)),
    Effect.flatMap((response) =>
      Effect.flatMap(
        Effect.mapError(response.text, (error) => fail(error.message, response.status)),
        (text): Effect.Effect<Token, AuthError> => {
          if (response.status < 200 || response.status >= 300) {
            return Effect.fail(fail(text.trim() === "" ? "the token endpoint refused" : text, response.status))
          }
          let body: unknown
          try {
            body = JSON.parse(text)
          } catch {
            return Effect.fail(fail("the token endpoint's answer is not JSON", response.status))
          }
          const { access_token, expires_in } = (typeof body === "object" && body !== null ? body : {}) as {
            access_token?: unknown
            expires_in?: unknown
          }
          if (typeof access_token !== "string" || access_token === "") {
            return Effect.fail(fail("the token endpoint's answer has no access_token", response.status))
          }
          const seconds = typeof expires_in === "number"
            ? expires_in
            : typeof expires_in === "string"
            ? Number(expires_in)
            : NaN
          return Effect.succeed({
            token: Redacted.make(access_token),
            expiresInMillis: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined
          })
        }
      )
    ),
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () => fail(`no answer within ${Duration.format(timeout)}`)
    })
  )
}

/**
 * A token provider for `auth`, requesting tokens through `httpClient` (the application's
 * client, without the base URL or credentials of the API).
 *
 * The cache is a `SynchronizedRef`: the first caller that finds no valid token starts
 * one fetch (in a daemon fiber, so an interrupted caller does not strand the others)
 * and every caller meanwhile awaits the same `Deferred`. A token without `expires_in`
 * is kept until the API answers 401.
 *
 * @internal
 */
export const make = (
  auth: OAuth,
  httpClient: HttpClient.HttpClient,
  timeout: Duration.Duration
): Effect.Effect<TokenProvider> =>
  Effect.map(SynchronizedRef.make<State>(empty), (ref) => {
    const fetch = Effect.retry(requestToken(auth, httpClient, timeout), { schedule: tokenRequestSchedule, while: retryable })

    const start = (deferred: Deferred.Deferred<Redacted.Redacted<string>, AuthError>) =>
      fetch.pipe(
        Effect.flatMap(({ expiresInMillis, token }) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            SynchronizedRef.set(ref, {
              _tag: "Ready",
              token,
              expiresAt: expiresInMillis === undefined
                ? Number.POSITIVE_INFINITY
                : now + expiresInMillis - safetyMargin(expiresInMillis)
            }).pipe(Effect.as(token)))
        ),
        Effect.tapError(() => SynchronizedRef.set(ref, empty)),
        Effect.onInterrupt(() => SynchronizedRef.set(ref, empty)),
        Effect.intoDeferred(deferred),
        Effect.forkDaemon
      )

    const get = SynchronizedRef.modifyEffect(ref, (state) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        switch (state._tag) {
          case "Ready":
            if (now < state.expiresAt) return Effect.succeed([Effect.succeed(state.token), state] as const)
            break
          case "Fetching":
            return Effect.succeed([Deferred.await(state.deferred), state] as const)
          case "Empty":
            break
        }
        return Effect.flatMap(Deferred.make<Redacted.Redacted<string>, AuthError>(), (deferred) =>
          Effect.as(start(deferred), [Deferred.await(deferred), { _tag: "Fetching", deferred } as State] as const))
      })).pipe(
        Effect.flatten,
        // tell the attempt which token its request carries
        Effect.tap((token) =>
          Effect.map(FiberRef.get(currentTokenCell), (cell) => {
            if (cell !== undefined) cell.token = token
          })
        )
      )

    const invalidate = (token: Redacted.Redacted<string> | undefined) =>
      SynchronizedRef.update(ref, (state) =>
        state._tag === "Ready" && (token === undefined || state.token === token) ? empty : state)

    return { get, invalidate }
  })
