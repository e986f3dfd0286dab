import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import type * as Duration from "effect/Duration"
import type { OAuth } from "../Auth.js"
import type { CamundaError } from "../CamundaError.js"
import { attemptRunner, withAttemptRunner } from "./attemptRunner.js"
import * as OAuthTokens from "./oauth.js"
import { currentTokenCell, type TokenCell } from "./tokenCell.js"

/*
 * The API side of OAuth: every request carries a token, a 401 renews it once. Reached only
 * through an `Auth.oauth(…)` value (`OAuth.connect`), so a program that never uses OAuth
 * bundles none of it.
 */

/** @internal */
export interface Connected {
  /** The application's client with the base URL and a token on every request. */
  readonly httpClient: HttpClient.HttpClient
  /**
   * Runs an attempt so that a 401 (the token was revoked or expired early) drops the token
   * its request carried, fetches a new one and repeats the attempt once. Only that token is
   * dropped: a concurrent call may already have renewed it.
   */
  readonly renewingToken: <A>(attempt: Effect.Effect<A, CamundaError>) => Effect.Effect<A, CamundaError>
}

const isUnauthorized = (error: CamundaError): boolean =>
  error._tag === "Unauthorized" || (error._tag === "UnexpectedStatus" && error.status === 401)

/**
 * `original` with every request prepared by `prepare` first, its attempt runner (if any)
 * kept: the token comes first, then the attempt (so on `UndiciHttpClient` the deadline starts
 * when the request goes out).
 */
const preparingEffect = (
  original: HttpClient.HttpClient,
  prepare: (request: HttpClientRequest.HttpClientRequest) => Effect.Effect<HttpClientRequest.HttpClientRequest, HttpClientError.HttpClientError>
): HttpClient.HttpClient => {
  const runner = attemptRunner(original)
  const prepared = HttpClient.mapRequestEffect(original, prepare)
  return runner === undefined
    ? prepared
    : withAttemptRunner(prepared, (request, onResponse, options) =>
      Effect.flatMap(Effect.mapError(prepare(request), options.onError), (request) => runner(request, onResponse, options)))
}

/**
 * The token provider of `auth` on `httpClient`, and the client the API is called through.
 * Tokens are requested through the application's client as given (no base URL, no
 * credentials). A token that cannot be had fails the request with a `RequestError` whose
 * cause is the `Auth.AuthError`, so an operation sees a `TransportError` (reason
 * "Transport") carrying it.
 *
 * @internal
 */
export const connect = (
  auth: OAuth,
  httpClient: HttpClient.HttpClient,
  restAddress: string,
  timeout: Duration.Duration
): Effect.Effect<Connected> =>
  Effect.map(OAuthTokens.make(auth, httpClient, timeout), (tokens) => ({
    httpClient: preparingEffect(httpClient, (request) => {
      const addressed = HttpClientRequest.prependUrl(request, restAddress)
      return tokens.get.pipe(
        Effect.map((token) => HttpClientRequest.bearerToken(addressed, token)),
        Effect.mapError((error) =>
          new HttpClientError.RequestError({ request: addressed, reason: "Transport", cause: error, description: error.message })
        )
      )
    }),
    renewingToken: (attempt) =>
      Effect.suspend(() => {
        const cell: TokenCell = { token: undefined }
        return Effect.catchIf(
          Effect.locally(attempt, currentTokenCell, cell),
          isUnauthorized,
          () => Effect.zipRight(tokens.invalidate(cell.token), attempt)
        )
      })
  }))
