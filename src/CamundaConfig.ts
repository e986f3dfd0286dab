/**
 * The settings of a client, given as a typed object or read from the environment
 * under the official SDK's names, so an existing `.env` keeps working.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Auth from "./Auth.js"
import * as Backpressure from "./Backpressure.js"
import * as Retry from "./Retry.js"

/**
 * What `CamundaClient.layer` accepts.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Base URL of the Orchestration Cluster REST API; `/v2` is appended when missing. Default `http://localhost:8080/v2`. */
  readonly restAddress?: string | undefined
  /** Credentials; default {@link Auth.none}. */
  readonly auth?: Auth.Auth | undefined
  /**
   * The tenant of calls that name none (`CAMUNDA_DEFAULT_TENANT_ID`): fills `tenantId` of
   * the request bodies that take one (createProcessInstance, createDeployment,
   * publishMessage, correlateMessage, broadcastSignal, evaluateDecision, …) and
   * `tenantIds` of activateJobs, when the caller left them out. Search filters are left alone.
   */
  readonly defaultTenantId?: string | undefined
  /** How calls are retried; default {@link Retry.defaultPolicy} (backpressure only). */
  readonly retry?: Retry.Policy | undefined
  /**
   * How long one attempt may take before it fails with `TransportError` (`reason: "Timeout"`);
   * default 60 s. Long polls (an input with `requestTimeout`) get their own plus 10 s.
   * `Duration.infinity` sets no timer at all (it costs throughput; see BENCHMARKS.md).
   */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /**
   * The adaptive concurrency gate's profile (`CAMUNDA_SDK_BACKPRESSURE_PROFILE`); default
   * {@link Backpressure.balanced}. `"LEGACY"` only observes.
   */
  readonly backpressure?: Backpressure.Profile | Backpressure.ProfileName | undefined
}

/**
 * Settings with every default applied.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resolved {
  readonly restAddress: string
  readonly auth: Auth.Auth
  readonly defaultTenantId: Option.Option<string>
  readonly retry: Retry.Policy
  readonly requestTimeout: Duration.Duration
  readonly backpressure: Backpressure.Profile
}

/**
 * The address used when none is given.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRestAddress = "http://localhost:8080/v2"

/**
 * How long one attempt may take when nothing else is said.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRequestTimeout: Duration.Duration = Duration.seconds(60)

/**
 * Appends `/v2` to an address that lacks it and drops trailing slashes:
 * `http://localhost:8080` becomes `http://localhost:8080/v2`.
 *
 * @since 0.1.0
 * @category utils
 */
export const normalizeRestAddress = (address: string): string => {
  const trimmed = address.trim().replace(/\/+$/, "")
  return /\/v2$/.test(trimmed) ? trimmed : `${trimmed}/v2`
}

/**
 * Applies the defaults to `options`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (options: Options = {}): Resolved => ({
  restAddress: normalizeRestAddress(options.restAddress ?? defaultRestAddress),
  auth: options.auth ?? Auth.none,
  defaultTenantId: Option.fromNullable(options.defaultTenantId),
  retry: options.retry ?? Retry.defaultPolicy,
  requestTimeout: Duration.decode(options.requestTimeout ?? defaultRequestTimeout),
  backpressure: typeof options.backpressure === "string"
    ? Backpressure.profiles[options.backpressure]
    : options.backpressure ?? Backpressure.balanced
})

const strategies = ["NONE", "BASIC", "OAUTH"] as const

const missing = (name: string, strategy: string) =>
  ConfigError.MissingData([name], `Expected ${name} to be set for ${strategy} authentication`)

interface AuthSettings {
  readonly strategy: Option.Option<(typeof strategies)[number]>
  readonly clientId: Option.Option<string>
  readonly username: Option.Option<string>
  readonly password: Option.Option<Redacted.Redacted<string>>
  readonly clientSecret: Option.Option<Redacted.Redacted<string>>
  readonly oauthUrl: Option.Option<string>
  readonly audience: Option.Option<string>
  readonly scope: Option.Option<string>
}

/** Chooses the strategy as the official SDK does: explicit, else OAuth when a client id is set, else basic when a username is set. */
const chooseAuth = (
  { audience, clientId, clientSecret, oauthUrl, password, scope, strategy, username }: AuthSettings
): Either.Either<Auth.Auth, ConfigError.ConfigError> => {
  const chosen = Option.getOrElse(strategy, () => Option.isSome(clientId) ? "OAUTH" : Option.isSome(username) ? "BASIC" : "NONE")
  switch (chosen) {
    case "NONE":
      return Either.right(Auth.none)
    case "BASIC":
      if (Option.isNone(username)) return Either.left(missing("CAMUNDA_BASIC_AUTH_USERNAME", "basic"))
      if (Option.isNone(password)) return Either.left(missing("CAMUNDA_BASIC_AUTH_PASSWORD", "basic"))
      return Either.right(Auth.basic({ username: username.value, password: password.value }))
    case "OAUTH":
      if (Option.isNone(oauthUrl)) return Either.left(missing("CAMUNDA_OAUTH_URL", "OAuth"))
      if (Option.isNone(clientId)) return Either.left(missing("CAMUNDA_CLIENT_ID", "OAuth"))
      if (Option.isNone(clientSecret)) return Either.left(missing("CAMUNDA_CLIENT_SECRET", "OAuth"))
      return Either.right(
        Auth.oauth({
          oauthUrl: oauthUrl.value,
          clientId: clientId.value,
          clientSecret: clientSecret.value,
          audience: Option.getOrUndefined(audience),
          scope: Option.getOrUndefined(scope)
        })
      )
  }
}

const authConfig = (): Config.Config<Auth.Auth> =>
  Config.all({
    strategy: Config.option(Config.literal(...strategies)("CAMUNDA_AUTH_STRATEGY")),
    clientId: Config.option(Config.string("CAMUNDA_CLIENT_ID")),
    username: Config.option(Config.string("CAMUNDA_BASIC_AUTH_USERNAME")),
    password: Config.option(Config.redacted("CAMUNDA_BASIC_AUTH_PASSWORD")),
    clientSecret: Config.option(Config.redacted("CAMUNDA_CLIENT_SECRET")),
    oauthUrl: Config.option(Config.string("CAMUNDA_OAUTH_URL")),
    audience: Config.option(Config.string("CAMUNDA_TOKEN_AUDIENCE")),
    scope: Config.option(Config.string("CAMUNDA_TOKEN_SCOPE"))
  }).pipe(Config.mapOrFail(chooseAuth))

const retryConfig = (): Config.Config<Retry.Policy> =>
  Config.all({
    maxAttempts: Config.option(Config.integer("CAMUNDA_SDK_HTTP_RETRY_MAX_ATTEMPTS")),
    baseDelay: Config.option(Config.integer("CAMUNDA_SDK_HTTP_RETRY_BASE_DELAY_MS")),
    maxDelay: Config.option(Config.integer("CAMUNDA_SDK_HTTP_RETRY_MAX_DELAY_MS"))
  }).pipe(
    Config.validate({
      message: "retry attempts must be at least 1 and delays at least 0",
      validation: ({ baseDelay, maxAttempts, maxDelay }) =>
        Option.getOrElse(maxAttempts, () => 1) >= 1 && Option.getOrElse(baseDelay, () => 0) >= 0 &&
        Option.getOrElse(maxDelay, () => 0) >= 0
    }),
    Config.map(({ baseDelay, maxAttempts, maxDelay }) =>
      Retry.policy({
        maxAttempts: Option.getOrUndefined(maxAttempts),
        baseDelay: Option.getOrUndefined(Option.map(baseDelay, Duration.millis)),
        maxDelay: Option.getOrUndefined(Option.map(maxDelay, Duration.millis))
      })
    )
  )

/**
 * Reads {@link Options} from the environment (or any `ConfigProvider`):
 * `CAMUNDA_REST_ADDRESS` (alias `ZEEBE_REST_ADDRESS`), `CAMUNDA_AUTH_STRATEGY`
 * (`NONE` | `BASIC` | `OAUTH`, inferred when unset: OAuth when `CAMUNDA_CLIENT_ID` is set,
 * else basic when a username is), `CAMUNDA_BASIC_AUTH_USERNAME`,
 * `CAMUNDA_BASIC_AUTH_PASSWORD` (read as `Redacted`), for OAuth `CAMUNDA_OAUTH_URL`,
 * `CAMUNDA_CLIENT_ID`, `CAMUNDA_CLIENT_SECRET` (read as `Redacted`) and the optional
 * `CAMUNDA_TOKEN_AUDIENCE`, `CAMUNDA_TOKEN_SCOPE`, `CAMUNDA_DEFAULT_TENANT_ID` and
 * `CAMUNDA_SDK_HTTP_RETRY_MAX_ATTEMPTS`, `…_BASE_DELAY_MS`, `…_MAX_DELAY_MS` and
 * `CAMUNDA_SDK_BACKPRESSURE_PROFILE` (`BALANCED` | `CONSERVATIVE` | `AGGRESSIVE` | `LEGACY`).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = /*#__PURE__*/ Config.suspend(() =>
  Config.all({
    restAddress: Config.string("CAMUNDA_REST_ADDRESS").pipe(
      Config.orElse(() => Config.string("ZEEBE_REST_ADDRESS")),
      Config.withDefault(defaultRestAddress)
    ),
    auth: authConfig(),
    retry: retryConfig(),
    defaultTenantId: Config.option(Config.string("CAMUNDA_DEFAULT_TENANT_ID")).pipe(Config.map(Option.getOrUndefined)),
    backpressure: Config.literal("BALANCED", "CONSERVATIVE", "AGGRESSIVE", "LEGACY")("CAMUNDA_SDK_BACKPRESSURE_PROFILE").pipe(
      Config.withDefault("BALANCED" as const)
    )
  })
)
