import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import {
  alwaysPossibleStatuses,
  errorByStatus,
  type KnownStatus,
  type ProblemError,
  type ProblemDetail as ProblemDetailType,
  ProblemDetail,
  TransportError,
  UnexpectedStatus
} from "../CamundaError.js"
import type { Descriptor } from "./operation.js"

const decodeProblem = Schema.decodeUnknownEither(ProblemDetail)

/** The reason phrase of an error class's status, from its tag: `NotFound` is "Not Found", `TooManyRequests` "Too Many Requests". */
const reasonPhrase = (tag: string): string => tag.replace(/\B(?=[A-Z])/g, " ")

const maxDetailLength = 1000

/**
 * Parses `Retry-After` (delay in seconds, or an HTTP date) against the Effect clock.
 *
 * @internal
 */
export const parseRetryAfter = (value: string | undefined, nowMillis: number): Duration.Duration | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Duration.seconds(Number(trimmed))
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Duration.millis(Math.max(0, date - nowMillis))
}

/** Reads a body as a problem document when it is one. */
const parseProblem = (text: string): ProblemDetailType | undefined => {
  if (text.length === 0) return undefined
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined
  return Either.getOrUndefined(decodeProblem(json))
}

const isKnownStatus = (status: number): status is KnownStatus => Object.hasOwn(errorByStatus, status)

const extensionsOf = (problem: ProblemDetailType): Record<string, unknown> => {
  const { detail: _d, instance: _i, status: _s, title: _t, type: _ty, ...extensions } = problem
  return extensions
}

/**
 * Turns an error answer into the operation's typed failure: the status class when the
 * operation declares the status (or it is one any cluster may answer), `UnexpectedStatus` otherwise.
 *
 * @internal
 */
export const problemError = (
  descriptor: Descriptor,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<never, ProblemError | UnexpectedStatus | TransportError> =>
  Effect.flatMap(
    Effect.zip(
      Effect.mapError(response.text, (error) =>
        new TransportError({
          operationId: descriptor.operationId,
          reason: "ResponseBody",
          description: error.message,
          cause: error
        })),
      Clock.currentTimeMillis
    ),
    ([text, now]): Effect.Effect<never, ProblemError | UnexpectedStatus> => {
      const { status } = response
      const operationId = descriptor.operationId
      const problem = parseProblem(text)
      const retryAfter = parseRetryAfter(response.headers["retry-after"], now)
      const expected = (descriptor.declaredErrors as ReadonlyArray<number>).includes(status) ||
        (alwaysPossibleStatuses as ReadonlyArray<number>).includes(status)
      if (!expected || !isKnownStatus(status)) {
        return Effect.fail(
          new UnexpectedStatus({
            operationId,
            status,
            body: problem ?? text,
            ...(problem === undefined ? {} : { problem }),
            ...(retryAfter === undefined ? {} : { retryAfter })
          })
        )
      }
      const detail = problem === undefined ? Option.some(text.slice(0, maxDetailLength)) : Option.fromNullable(problem.detail)
      const instance = Option.fromNullable(problem?.instance)
      const ErrorClass = errorByStatus[status]
      return Effect.fail(
        new ErrorClass({
          operationId,
          status,
          type: problem?.type ?? "about:blank",
          title: problem?.title ?? reasonPhrase(ErrorClass._tag),
          ...(Option.isSome(detail) && detail.value.length > 0 ? { detail: detail.value } : {}),
          ...(Option.isSome(instance) ? { instance: instance.value } : {}),
          extensions: problem === undefined ? (text.length > 0 ? { body: text } : {}) : extensionsOf(problem),
          ...(retryAfter === undefined ? {} : { retryAfter })
        })
      )
    }
  )
