import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import * as Stream from "effect/Stream"
import type { CamundaClient } from "../CamundaClient.js"
import { InvalidRequest } from "../CamundaError.js"
import type * as Keys from "../generated/schemas/Keys.js"
import type { Descriptor } from "./operation.js"

/** @internal */
export const defaultPageSize = 100

/** The largest `limit` the spec allows for cursor pages. @internal */
export const maxPageSize = 10_000

/** @internal */
export interface PageResult {
  readonly items: ReadonlyArray<unknown>
  readonly page: { readonly endCursor?: Keys.EndCursor | null | undefined }
}

/** @internal */
export interface AnySearch {
  (input: never): Effect.Effect<PageResult, unknown, CamundaClient>
  readonly descriptor: Descriptor
}

type Call = (input: unknown) => Effect.Effect<PageResult, unknown, CamundaClient>

const limitAlone = /*#__PURE__*/ new WeakMap<Descriptor, boolean>()

/**
 * Whether the operation's `page` accepts a `limit` without a cursor. Most searches take
 * `SearchQueryPageRequest` (cursor, offset or limit); a few statistics take only
 * `CursorForwardPagination`, whose `after` is required, so their first page is requested
 * without `page` (the server's default size).
 *
 * @internal
 */
export const acceptsLimitAlone = (descriptor: Descriptor): boolean => {
  const known = limitAlone.get(descriptor)
  if (known !== undefined) return known
  let accepts = false
  const input = descriptor.input
  if (input !== undefined) {
    const page = AST.getPropertySignatures(input.ast).find((signature) => signature.name === "page")
    if (page !== undefined) accepts = Schema.is(Schema.make(page.type))({ limit: 1 })
  }
  limitAlone.set(descriptor, accepts)
  return accepts
}

/**
 * The cursor of the next page, or none when `result` was the last page: an empty page, no
 * `endCursor`, fewer items than the `limit` sent, or a cursor that did not move.
 *
 * @internal
 */
export const nextCursor = (
  result: PageResult,
  limit: number | undefined,
  after: Option.Option<Keys.EndCursor>
): Option.Option<Keys.EndCursor> => {
  const end = result.page.endCursor
  if (end === null || end === undefined || result.items.length === 0) return Option.none()
  if (limit !== undefined && result.items.length < limit) return Option.none()
  if (Option.isSome(after) && after.value === end) return Option.none()
  return Option.some(end)
}

/** @internal */
export interface Options {
  readonly pageSize?: number | undefined
}

/**
 * One request per call: the page after `after` (the first page for none), with the whole
 * answer and the cursor of the next page.
 *
 * @internal
 */
export const fetchResult = (operation: AnySearch, query: object | undefined, options: Options | undefined) => {
  const limit = options?.pageSize ?? defaultPageSize
  const { page: _ignored, ...rest } = (query ?? {}) as { readonly page?: unknown }
  const call = operation as unknown as Call
  const firstPage = acceptsLimitAlone(operation.descriptor) ? { limit } : undefined
  return (after: Option.Option<Keys.EndCursor>): Effect.Effect<readonly [PageResult, Option.Option<Keys.EndCursor>], unknown, CamundaClient> => {
    // offset pages have no upper bound in the spec: a server capping a larger limit would
    // answer a full page that looks like the last one
    if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize) {
      return Effect.fail(
        new InvalidRequest({
          operationId: operation.descriptor.operationId,
          description: `pageSize must be an integer from 1 to ${maxPageSize}, got ${limit}`
        })
      )
    }
    const page = Option.isSome(after) ? { after: after.value, limit } : firstPage
    return Effect.map(
      call(page === undefined ? rest : { ...rest, page }),
      (result) => [result, nextCursor(result, page?.limit, after)] as const
    )
  }
}

/** @internal */
export const fetchPage = (operation: AnySearch, query: object | undefined, options: Options | undefined) => {
  const fetch = fetchResult(operation, query, options)
  return (after: Option.Option<Keys.EndCursor>) =>
    Effect.map(fetch(after), ([result, next]) => [result.items, next] as const)
}

/** @internal */
export const pages = (operation: AnySearch, query: object | undefined, options: Options | undefined) => {
  const fetch = fetchResult(operation, query, options)
  return Stream.paginateEffect(Option.none<Keys.EndCursor>(), (after) =>
    Effect.map(fetch(after), ([result, next]) => [result, Option.map(next, Option.some)] as const))
}

/** @internal */
export const stream = (operation: AnySearch, query: object | undefined, options: Options | undefined) => {
  const fetch = fetchPage(operation, query, options)
  return Stream.paginateChunkEffect(Option.none<Keys.EndCursor>(), (after) =>
    Effect.map(fetch(after), ([items, next]) => [Chunk.unsafeFromArray(items), Option.map(next, Option.some)] as const))
}
