/**
 * How the client authenticates its requests.
 *
 * Secrets are `Redacted` from the moment they are read: they are unwrapped only to
 * build the `Authorization` header, which `@effect/platform` keeps out of spans and logs.
 * OAuth 2 client credentials arrive with the resilience work.
 *
 * @since 0.1.0
 */
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as internal from "./internal/auth.js"
import type * as Redacted from "effect/Redacted"

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
 * @since 0.1.0
 * @category models
 */
export type Auth = None | Basic | Bearer

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
 * Adds the credentials of `auth` to a request.
 *
 * @since 0.1.0
 * @category combinators
 */
export const authorize: (auth: Auth) => (request: HttpClientRequest.HttpClientRequest) => HttpClientRequest.HttpClientRequest =
  internal.authorize
