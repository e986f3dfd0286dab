import * as HttpBody from "@effect/platform/HttpBody"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Context from "effect/Context"
import type * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as Tracer from "effect/Tracer"
import { CamundaClient } from "../CamundaClient.js"
import { type CamundaError, DecodeError, InvalidRequest, type OperationError, TransportError } from "../CamundaError.js"
import * as Retry from "../Retry.js"
import { currentRetryPolicy } from "./retryPolicy.js"
import { type AttemptOptions, type InFlight, runAttempt } from "./attemptRunner.js"
import type { Descriptor, SuccessBody } from "./operation.js"
import { problemError } from "./problem.js"
import { retryAfterFailure } from "./retryAfterFailure.js"
import { withOwnSpan } from "./tracing.js"

/** What an operation needs at call time, compiled once per operation on first use. */
interface Compiled {
  readonly encode: (input: unknown) => Either.Either<Record<string, unknown>, ParseResult.ParseIssue>
  readonly path: (input: Record<string, unknown>) => string | undefined
  readonly bodyKeys: (input: Record<string, unknown>) => ReadonlyArray<string>
  /** The operation's method and `accept` header, the same for every call: a call adds its URL. */
  readonly template: HttpClientRequest.HttpClientRequest
  readonly spanName: string
  readonly spanOptions: Tracer.SpanOptions
  /** Whether a call waits for a permit of the client's backpressure gate. */
  readonly gated: boolean
}

const compiledByDescriptor = new WeakMap<Descriptor, Compiled>()

type Decoder = (u: unknown) => Either.Either<unknown, ParseResult.ParseIssue>
const decoders = new WeakMap<Schema.Schema<any, any>, Decoder>()

/** The decoder of a success schema, built on first use. */
const decoderFor = (schema: Schema.Schema<any, any>): Decoder => {
  let decoder = decoders.get(schema)
  if (decoder === undefined) {
    decoder = ParseResult.decodeUnknownEither(schema, { onExcessProperty: "ignore" })
    decoders.set(schema, decoder)
  }
  return decoder
}

const compile = (descriptor: Descriptor): Compiled => {
  let compiled = compiledByDescriptor.get(descriptor)
  if (compiled === undefined) {
    compiled = {
      encode: descriptor.input === undefined
        ? () => Either.right({})
        : ParseResult.encodeUnknownEither(descriptor.input as Schema.Schema<any, Record<string, unknown>>, {
          errors: "all",
          // a union member that matches first must not drop the fields of a more specific one
          onExcessProperty: "preserve"
        }),
      path: compilePath(descriptor.path),
      bodyKeys: compileBodyKeys(descriptor),
      template: HttpClientRequest.make(descriptor.method)("", { headers: { accept: descriptor.accept } }),
      spanName: `camunda.${descriptor.operationId}`,
      spanOptions: spanOptionsOf(descriptor),
      gated: descriptor.gated === true
    }
    compiledByDescriptor.set(descriptor, compiled)
  }
  return compiled
}

/** The operation span's options, the same object for every call. */
const spanOptionsOf = (descriptor: Descriptor): Tracer.SpanOptions => ({
  kind: "client",
  attributes: {
    "camunda.operation_id": descriptor.operationId,
    "http.request.method": descriptor.method,
    "url.template": descriptor.path
  },
  // the call site is the generated operation, the same for every call: not worth a stack trace each time
  captureStackTrace: false
})

/** `.` and `..`: path segments that URL parsing removes (with the one before, for `..`), so the request would reach another endpoint. */
const isDotSegment = (value: string) => value === "." || value === ".."

/** The request path of an input, `undefined` when a path parameter is a dot segment. */
const compilePath = (template: string) => {
  const parts = template.split(/\{([^}]+)\}/)
  if (parts.length === 1) return () => template
  return (input: Record<string, unknown>): string | undefined => {
    let path = parts[0]!
    for (let i = 1; i < parts.length; i += 2) {
      const value = String(input[parts[i]!])
      if (isDotSegment(value)) return undefined
      path += encodeURIComponent(value) + parts[i + 1]!
    }
    return path
  }
}

const compileBodyKeys = (descriptor: Descriptor) => {
  const parameters = new Set([...descriptor.pathParams, ...descriptor.queryParams])
  return (input: Record<string, unknown>) =>
    Object.keys(input).filter((key) => !parameters.has(key) && input[key] !== undefined)
}

const pick = (input: Record<string, unknown>, keys: ReadonlyArray<string>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const key of keys) out[key] = input[key]
  return out
}

const queryValue = (value: unknown): string => typeof value === "string" ? value : JSON.stringify(value)

const buildRequest = (descriptor: Descriptor, compiled: Compiled, input: Record<string, unknown>, path: string) => {
  let request = HttpClientRequest.setUrl(compiled.template, path)
  for (const name of descriptor.queryParams) {
    const value = input[name]
    if (value !== undefined) request = HttpClientRequest.appendUrlParam(request, name, queryValue(value))
  }
  if (descriptor.requestBody === "None") return request
  const bodyKeys = compiled.bodyKeys(input)
  if (bodyKeys.length === 0 && !descriptor.bodyRequired) return request
  const body = pick(input, bodyKeys)
  return HttpClientRequest.setBody(
    request,
    descriptor.encodeMultipart === undefined ? HttpBody.unsafeJson(body) : descriptor.encodeMultipart(body)
  )
}

const transportError = (operationId: string) => (error: HttpClientError.HttpClientError) =>
  new TransportError({
    operationId,
    reason: error._tag === "RequestError" ? "Transport" : "ResponseBody",
    description: error.message,
    cause: error
  })

/** `body`, a read of the answer's body, failing as the operation's `TransportError` when the body cannot be read. */
const readBody = <A>(body: Effect.Effect<A, HttpClientError.ResponseError>, operationId: string) =>
  Effect.catchTag(body, "ResponseError", (error) => Effect.fail(transportError(operationId)(error)))

const decodeSuccess = (
  descriptor: Descriptor,
  body: SuccessBody,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<unknown, DecodeError | TransportError> => {
  const { operationId } = descriptor
  switch (body._tag) {
    case "Empty":
      return Effect.asVoid(readBody(response.text, operationId))
    case "Text":
      return readBody(response.text, operationId)
    case "Binary":
      return readBody(Effect.map(response.arrayBuffer, (buffer) => new Uint8Array(buffer)), operationId)
    case "Json":
      return Effect.flatMap(readBody(response.text, operationId), (text) => {
        const failDecode = (description: string, parsed: unknown) =>
          new DecodeError({ operationId, status: response.status, description, body: parsed })
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch (cause) {
          return Effect.fail(failDecode(`the body is not JSON: ${String(cause)}`, text))
        }
        return Either.mapLeft(
          decoderFor(body.schema)(json),
          (issue) => failDecode(ParseResult.TreeFormatter.formatIssueSync(issue), json)
        )
      })
  }
}

const successBodyFor = (descriptor: Descriptor, status: number): SuccessBody | undefined => {
  const exact = descriptor.responses[status]
  if (exact !== undefined) return exact
  if (status < 200 || status >= 300) return undefined
  return Object.values(descriptor.responses)[0] ?? { _tag: "Empty" }
}

/** Long polls (activateJobs, awaitCompletion) may hold a request this much longer than they asked for. */
const longPollMargin = Duration.seconds(10)

/** The time one attempt may take: the client's, or a long poll's own `requestTimeout` plus a margin. */
const attemptTimeout = (client: CamundaClient["Type"], input: unknown): Duration.Duration => {
  const asked = typeof input === "object" && input !== null ? (input as { requestTimeout?: unknown }).requestTimeout : undefined
  if (typeof asked !== "number" || asked <= 0) return client.config.requestTimeout
  return Duration.max(client.config.requestTimeout, Duration.sum(Duration.millis(asked), longPollMargin))
}

/** The input with the client's default tenant in the operation's tenant field, when the caller left it out. */
const withDefaultTenant = (descriptor: Descriptor, client: CamundaClient["Type"], input: unknown): unknown => {
  const field = descriptor.tenantField
  const tenant = client.config.defaultTenantId
  if (field === undefined || Option.isNone(tenant)) return input
  const given = (input ?? {}) as Record<string, unknown>
  if (given[field] !== undefined) return input
  return { ...given, [field]: field === "tenantIds" ? [tenant.value] : tenant.value }
}

/**
 * What every attempt of one call shares: the operation span and the trace context to send,
 * where the request in flight can be aborted, the caller's clock.
 */
type CallScope = Pick<AttemptOptions<never, never>, "span" | "traceContext" | "inFlight" | "clock">

const invalidRequest = (descriptor: Descriptor, description: string) =>
  Effect.fail(new InvalidRequest({ operationId: descriptor.operationId, description }))

/** One attempt: encode, send, read the answer. */
const attempt = <S extends number>(
  descriptor: Descriptor<S>,
  compiled: Compiled,
  client: CamundaClient["Type"],
  input: unknown,
  scope: CallScope
): Effect.Effect<unknown, CamundaError> =>
  Either.match(compiled.encode(input ?? {}), {
    onLeft: (issue) => invalidRequest(descriptor, ParseResult.TreeFormatter.formatIssueSync(issue)),
    onRight: (encoded) => {
      const path = compiled.path(encoded)
      if (path === undefined) {
        const name = descriptor.pathParams.find((name) => isDotSegment(String(encoded[name])))
        return invalidRequest(descriptor, `${name} is "${encoded[name!]}", a path segment URL parsing removes`)
      }
      const timeout = attemptTimeout(client, input)
      // past the deadline the request is aborted (and the connection closed)
      return runAttempt(client.httpClient, buildRequest(descriptor, compiled, encoded, path), (response): Effect.Effect<unknown, CamundaError> => {
        const body = successBodyFor(descriptor, response.status)
        return body === undefined ? problemError(descriptor, response) : decodeSuccess(descriptor, body, response)
      }, {
        span: scope.span,
        traceContext: scope.traceContext,
        inFlight: scope.inFlight,
        clock: scope.clock,
        timeout,
        onError: transportError(descriptor.operationId),
        onTimeout: () =>
          new TransportError({
            operationId: descriptor.operationId,
            reason: "Timeout",
            description: `no answer within ${Duration.format(timeout)}`
          })
      })
    }
  })

/** Records a retried failure on the operation's span. */
const recordRetry = (span: Tracer.Span | undefined) => (error: CamundaError) =>
  span === undefined
    ? Effect.void
    : Effect.map(Clock.currentTimeNanos, (now) => span.event("camunda.retry", now, { "error.type": error._tag }))

/** With OAuth, `attempt` renewing its token after a 401 (`internal/oauthClient.ts`). */
const renewingToken = (client: CamundaClient["Type"], attempt: Effect.Effect<unknown, CamundaError>) =>
  client.renewingToken === undefined ? attempt : client.renewingToken(attempt)

/** The policy in force: the call's (`CamundaClient.withRetry`) or the client's. */
const policyFor = (client: CamundaClient["Type"], fiber: Fiber.RuntimeFiber<unknown, unknown>): Retry.Policy => {
  const policy = fiber.getFiberRef(currentRetryPolicy)
  return Option.isSome(policy) ? policy.value : client.config.retry
}

/** A policy's schedule, built once per policy. */
const schedules = new WeakMap<Retry.Policy, ReturnType<typeof Retry.schedule>>()
const scheduleOf = (policy: Retry.Policy) => {
  let schedule = schedules.get(policy)
  if (schedule === undefined) {
    schedule = Retry.schedule(policy)
    schedules.set(policy, schedule)
  }
  return schedule
}

/** @internal */
export const execute = <A, S extends number, Gated extends boolean>(
  descriptor: Descriptor<S>,
  input: unknown
): Effect.Effect<A, OperationError<S, Gated>, CamundaClient> => {
  const compiled = compile(descriptor)
  return Effect.withFiberRuntime<unknown, CamundaError, CamundaClient>((fiber) => {
    const client = Context.unsafeGet(fiber.currentContext, CamundaClient)
    const policy = policyFor(client, fiber)
    const gate = client.gate
    const inFlight: InFlight = { abort: undefined }
    const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
    const call = (span: Tracer.Span | undefined, traceContext: Tracer.AnySpan | undefined) => {
      const tenanted = withDefaultTenant(descriptor, client, input)
      const scope: CallScope = { span, traceContext, inFlight, clock }
      const once = gate.observe(renewingToken(client, attempt(descriptor, compiled, client, tenanted, scope)), compiled.gated)
      const retryable = Retry.shouldRetry(policy, descriptor.safeToRepeat)
      const call = policy.maxAttempts <= 1 ? once : Effect.catchIf(once, retryable, (error) =>
        retryAfterFailure(once, error, { schedule: scheduleOf(policy), while: retryable, onRetry: recordRetry(span) }))
      // one permit per logical call, held across its retries
      return compiled.gated ? gate.withPermit(descriptor.operationId, call, span) : call
    }
    // a call that ends (is interrupted) with its request still out aborts it
    return withOwnSpan(fiber, compiled.spanName, compiled.spanOptions, call, () => inFlight.abort?.())
  }) as Effect.Effect<any, any, CamundaClient> as Effect.Effect<A, OperationError<S, Gated>, CamundaClient>
}
