/**
 * How the client authenticates its requests.
 *
 * Secrets are `Redacted` from the moment they are read: they are unwrapped only to
 * build the `Authorization` header, which `@effect/platform` keeps out of spans and logs.
 * {@link oauth} fetches an OAuth 2 client-credentials token, caches it until shortly before
 * it expires, and refreshes it (once) when the API answers 401.
 *
 * @since 0.1.0
 */
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as internal from "./internal/auth.js"
import * as OAuthClient from "./internal/oauthClient.js"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * Send no credentials (a local cluster, or one behind a gateway that adds them).
 *
 * @since 0.1.0
 * @category models
 */
export interface None {
  readonly _tag: "None"
}

/**
 * HTTP basic authentication (Self-Managed clusters with basic auth enabled).
 *
 * @since 0.1.0
 * @category models
 */
export interface Basic {
  readonly _tag: "Basic"
  readonly username: string
  readonly password: Redacted.Redacted<string>
}

/**
 * A static bearer token, sent as `Authorization: Bearer <token>`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Bearer {
  readonly _tag: "Bearer"
  readonly token: Redacted.Redacted<string>
}

/**
 * OAuth 2 client credentials (SaaS, or Self-Managed with Identity/Keycloak): the client
 * POSTs `grant_type=client_credentials` to `oauthUrl`, caches the access token until
 * shortly before `expires_in`, and sends it as `Authorization: Bearer <token>`.
 *
 * @since 0.1.0
 * @category models
 */
export interface OAuth {
  readonly _tag: "OAuth"
  /** The token endpoint, e.g. `https://login.cloud.camunda.io/oauth/token`. */
  readonly oauthUrl: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** Sent as `audience` when set (`CAMUNDA_TOKEN_AUDIENCE`). */
  readonly audience?: string | undefined
  /** Sent as `scope` when set (`CAMUNDA_TOKEN_SCOPE`). */
  readonly scope?: string | undefined
  /**
   * Builds the token provider (cache, single flight, retries) on `httpClient` and returns the
   * client the API is called through (base URL and a token on every request) with the
   * renewal of a token after a 401. Carried by the value, so a program that never uses OAuth
   * bundles none of it.
   *
   * @internal
   */
  readonly connect: (
    httpClient: HttpClient.HttpClient,
    restAddress: string,
    timeout: Duration.Duration
  ) => Effect.Effect<OAuthClient.Connected>
}

/**
 * @since 0.1.0
 * @category models
 */
export type Auth = None | Basic | Bearer | OAuth

/**
 * The token endpoint refused or failed to issue a token (after the bounded retries).
 *
 * An operation cannot fail with it directly: it reaches the caller as a
 * `TransportError` (`reason: "Transport"`) whose `cause` is an
 * `HttpClientError.RequestError` whose `cause` is this `AuthError`.
 * It never carries the client secret or a token.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthError extends Schema.TaggedError<AuthError>()("AuthError", {
  /** The token endpoint's URL. */
  oauthUrl: Schema.String,
  /** The HTTP status of the token endpoint's answer, when there was one. */
  status: Schema.optional(Schema.Number),
  description: Schema.String
}) {
  override get message(): string {
    return `AuthError: token request to ${this.oauthUrl} failed${
      this.status === undefined ? "" : ` with HTTP ${this.status}`
    }: ${this.description}`
  }
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const none: Auth = { _tag: "None" }

/**
 * @since 0.1.0
 * @category constructors
 */
export const basic = (options: { readonly username: string; readonly password: Redacted.Redacted<string> }): Auth => ({
  _tag: "Basic",
  username: options.username,
  password: options.password
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const bearer = (token: Redacted.Redacted<string>): Auth => ({ _tag: "Bearer", token })

/**
 * OAuth 2 client credentials; see {@link OAuth}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const oauth = (options: {
  readonly oauthUrl: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly audience?: string | undefined
  readonly scope?: string | undefined
}): Auth => {
  const auth: OAuth = {
    _tag: "OAuth",
    oauthUrl: options.oauthUrl,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    audience: options.audience,
    scope: options.scope,
    connect: (httpClient, restAddress, timeout) => OAuthClient.connect(auth, httpClient, restAddress, timeout)
  }
  return auth
}

/**
 * Adds the credentials of `auth` to a request. `OAuth` needs a token fetched first
 * (the client does that), so here it leaves the request unchanged.
 *
 * @since 0.1.0
 * @category combinators
 */
export const authorize: (auth: Auth) => (request: HttpClientRequest.HttpClientRequest) => HttpClientRequest.HttpClientRequest =
  internal.authorize
