/**
 * The errors of every operation.
 *
 * A problem answer of the API (RFC 9457 `application/problem+json`) becomes one
 * `Schema.TaggedError` per HTTP status, shared by all operations, so
 * `Effect.catchTag("Conflict", …)` reads the same everywhere. Around them sit the
 * cross-cutting failures: {@link UnexpectedStatus}, {@link TransportError},
 * {@link DecodeError} and {@link InvalidRequest}.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * An RFC 9457 problem document. Unknown members (extensions) are kept.
 *
 * @since 0.1.0
 * @category models
 */
export const ProblemDetail = Schema.Struct(
  {
    type: Schema.optionalWith(Schema.String, { default: () => "about:blank" }),
    title: Schema.optional(Schema.String),
    status: Schema.optional(Schema.Number),
    detail: Schema.optional(Schema.String),
    instance: Schema.optional(Schema.String)
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
).annotations({ identifier: "ProblemDetail" })

/**
 * @since 0.1.0
 * @category models
 */
export type ProblemDetail = typeof ProblemDetail.Type

/**
 * The fields every status error carries: the problem document, the operation that
 * failed and the server's `Retry-After`, if it sent one.
 *
 * @since 0.1.0
 * @category fields
 */
export const problemFields = {
  /** The operation that received the problem, e.g. `completeUserTask`. */
  operationId: Schema.String,
  /** The HTTP status of the answer. */
  status: Schema.Number,
  /** RFC 9457 `type`; `about:blank` when the server sent none. */
  type: Schema.String,
  /** RFC 9457 `title`; the HTTP reason phrase when the server sent none. */
  title: Schema.String,
  /** RFC 9457 `detail`. */
  detail: Schema.optional(Schema.String),
  /** RFC 9457 `instance`. */
  instance: Schema.optional(Schema.String),
  /** Extension members of the problem document, or `{ body }` when the body was no problem document. */
  extensions: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  /** The delay the server asked for in `Retry-After`, if any. */
  retryAfter: Schema.optional(Schema.DurationFromSelf)
}

const describe = (self: {
  readonly _tag: string
  readonly operationId: string
  readonly title: string
  readonly detail?: string | undefined
}): string => `${self._tag} [${self.operationId}]: ${self.detail ?? self.title}`

/**
 * 400: the request was malformed or failed the server's validation.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", problemFields) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 401: the credentials are missing or no longer valid.
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", problemFields) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 403: the caller is authenticated but not authorized.
 *
 * @since 0.1.0
 * @category errors
 */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", problemFields) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 404: the resource does not exist.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", problemFields) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 406: the server cannot produce the requested representation.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotAcceptable extends Schema.TaggedError<NotAcceptable>()("NotAcceptable", problemFields) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 409: the resource is in a state that does not allow the request.
 *
 * @since 0.1.0
 * @category errors
 */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", problemFields) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 415: the request's content type is not supported.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnsupportedMediaType
  extends Schema.TaggedError<UnsupportedMediaType>()("UnsupportedMediaType", problemFields)
{
  override get message(): string {
    return describe(this)
  }
}

/**
 * 429: the cluster applies backpressure (servers 8.6 and 8.7).
 *
 * @since 0.1.0
 * @category errors
 */
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()("TooManyRequests", problemFields) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 500: the server failed (servers 8.8.0–8.8.2 also signal backpressure this way).
 *
 * @since 0.1.0
 * @category errors
 */
export class InternalServerError
  extends Schema.TaggedError<InternalServerError>()("InternalServerError", problemFields)
{
  override get message(): string {
    return describe(this)
  }
}

/**
 * 502: a proxy in front of the cluster got no valid answer.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadGateway extends Schema.TaggedError<BadGateway>()("BadGateway", problemFields) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 503: the service is unavailable; titled `RESOURCE_EXHAUSTED` it is backpressure (8.8.3+).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServiceUnavailable extends Schema.TaggedError<ServiceUnavailable>()("ServiceUnavailable", problemFields) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * 504: the server gave up waiting, e.g. for a blocking task listener.
 *
 * @since 0.1.0
 * @category errors
 */
export class GatewayTimeout extends Schema.TaggedError<GatewayTimeout>()("GatewayTimeout", problemFields) {
  override get message(): string {
    return describe(this)
  }
}

/**
 * The error class for each HTTP status that has one.
 *
 * @since 0.1.0
 * @category errors
 */
export const errorByStatus = {
  400: BadRequest,
  401: Unauthorized,
  403: Forbidden,
  404: NotFound,
  406: NotAcceptable,
  409: Conflict,
  415: UnsupportedMediaType,
  429: TooManyRequests,
  500: InternalServerError,
  502: BadGateway,
  503: ServiceUnavailable,
  504: GatewayTimeout
} as const

/**
 * The HTTP statuses that have an error class of their own.
 *
 * @since 0.1.0
 * @category errors
 */
export type KnownStatus = keyof typeof errorByStatus

/**
 * The error instance for a status: `StatusError<409>` is `Conflict`.
 *
 * @since 0.1.0
 * @category errors
 */
export type StatusError<S extends number> = S extends KnownStatus ? InstanceType<(typeof errorByStatus)[S]> : never

/**
 * Any status error.
 *
 * @since 0.1.0
 * @category errors
 */
export type ProblemError = StatusError<KnownStatus>

/**
 * The statuses any secured or rate-limited cluster can answer, declared or not.
 *
 * @since 0.1.0
 * @category errors
 */
export const alwaysPossibleStatuses = [401, 403, 429] as const

/**
 * A status the operation does not declare (and that is not one of
 * {@link alwaysPossibleStatuses}); `problem` holds the body when it was a problem document.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedStatus extends Schema.TaggedError<UnexpectedStatus>()("UnexpectedStatus", {
  operationId: Schema.String,
  status: Schema.Number,
  body: Schema.Unknown,
  problem: Schema.optional(ProblemDetail),
  retryAfter: Schema.optional(Schema.DurationFromSelf)
}) {
  override get message(): string {
    const detail = this.problem?.detail ?? this.problem?.title
    return `UnexpectedStatus [${this.operationId}]: HTTP ${this.status}${detail === undefined ? "" : `: ${detail}`}`
  }
}

/**
 * The request did not produce an answer: connection refused or reset, DNS, TLS, timeout.
 * Whether the server processed the command is unknown.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  operationId: Schema.String,
  reason: Schema.Literal("Transport", "Timeout", "ResponseBody"),
  description: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `TransportError [${this.operationId}]: ${this.reason}: ${this.description}`
  }
}

/**
 * A success answer whose body does not match the operation's schema.
 *
 * @since 0.1.0
 * @category errors
 */
export class DecodeError extends Schema.TaggedError<DecodeError>()("DecodeError", {
  operationId: Schema.String,
  status: Schema.Number,
  description: Schema.String,
  body: Schema.Unknown
}) {
  override get message(): string {
    return `DecodeError [${this.operationId}]: HTTP ${this.status}: ${this.description}`
  }
}

/**
 * The input failed the operation's schema. Raised before any byte is sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  operationId: Schema.String,
  description: Schema.String
}) {
  override get message(): string {
    return `InvalidRequest [${this.operationId}]: ${this.description}`
  }
}

/**
 * The client's backpressure gate is full: too many calls already wait for a permit.
 * Nothing was sent. Raised at once, so a caller can shed load instead of queueing.
 *
 * @since 0.1.0
 * @category errors
 */
export class BackpressureQueueFull extends Schema.TaggedError<BackpressureQueueFull>()("BackpressureQueueFull", {
  operationId: Schema.String,
  /** Calls waiting when this one was refused. */
  waiting: Schema.Number,
  /** The gate's concurrency limit at the time. */
  limit: Schema.Number
}) {
  override get message(): string {
    return `BackpressureQueueFull [${this.operationId}]: ${this.waiting} calls already wait for one of ${this.limit} permits`
  }
}

/**
 * The error channel of an operation that declares the statuses `Declared`; `Gated`
 * operations (commands that wait for a backpressure permit) may also be refused one.
 *
 * @since 0.1.0
 * @category errors
 */
export type OperationError<Declared extends number, Gated extends boolean = false> =
  | StatusError<Declared | (typeof alwaysPossibleStatuses)[number]>
  | UnexpectedStatus
  | TransportError
  | DecodeError
  | InvalidRequest
  | (Gated extends true ? BackpressureQueueFull : never)

/**
 * Every error an operation can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type CamundaError =
  | ProblemError
  | UnexpectedStatus
  | TransportError
  | DecodeError
  | InvalidRequest
  | BackpressureQueueFull
