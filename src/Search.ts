/**
 * Every search as a lazy `Stream`: cursor pagination done once, for every search
 * operation of the API.
 *
 * `Search.stream(operation, query, { pageSize })` requests the first page without a
 * cursor, then each next page `after` the previous page's `endCursor`, and stops after the
 * last page. Pages are requested only as the stream is pulled, so `Stream.take(1)` costs
 * one request. Element and error types come from the operation.
 *
 * A page is the last one when it is empty, has no `endCursor`, or holds fewer items than
 * the `limit` requested. `totalItems` is not used to stop: it is counted when the page is
 * read, and is only a lower bound when `hasMoreTotalItems` is true.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Search, UserTask } from "effect-camunda"
 *
 * // every open task of the sales group, 100 per request
 * const open = Search.stream(UserTask.searchUserTasks, {
 *   filter: { state: "CREATED", candidateGroup: "sales" },
 *   sort: [{ field: "creationDate", order: "ASC" }]
 * }, { pageSize: 100 })
 *
 * const firstTen = open.pipe(Stream.take(10), Stream.runCollect)
 * ```
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Stream from "effect/Stream"
import type { CamundaClient } from "./CamundaClient.js"
import type * as Keys from "./generated/schemas/Keys.js"
import * as internal from "./internal/search.js"
import type { Descriptor } from "./Operation.js"

/**
 * What a search answers: one page of items and the cursor of the next page.
 *
 * @since 0.1.0
 * @category models
 */
export interface PageResult<Item> {
  readonly items: ReadonlyArray<Item>
  readonly page: { readonly endCursor: Keys.EndCursor | null }
}

/**
 * Any operation answered by a {@link PageResult}. {@link stream} and its siblings
 * further require that the operation's `page` takes a cursor (`after`), see
 * {@link CursorPaged}.
 *
 * @since 0.1.0
 * @category models
 */
export interface SearchOperation {
  (input: never): Effect.Effect<PageResult<unknown>, unknown, CamundaClient>
  readonly descriptor: Descriptor
}

/**
 * The full input of an operation.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Input<O extends SearchOperation> = O extends (...args: infer P) => any ? Exclude<P[0], undefined> : never

/**
 * What a stream is asked for: the operation's input without `page`, which the stream
 * owns (filters, sort, path parameters such as `groupId`).
 *
 * @since 0.1.0
 * @category type-level
 */
export type Query<O extends SearchOperation> = Omit<Input<O>, "page">

/**
 * The items of the operation's pages: `Item<typeof UserTask.searchUserTasks>` is `UserTaskResult`.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Item<O extends SearchOperation> = Effect.Effect.Success<ReturnType<O>> extends PageResult<infer A> ? A
  : never

/**
 * One page's whole answer (items, `totalItems`, cursors).
 *
 * @since 0.1.0
 * @category type-level
 */
export type Page<O extends SearchOperation> = Effect.Effect.Success<ReturnType<O>>

/**
 * The errors of the operation, hence of every page request.
 *
 * @since 0.1.0
 * @category type-level
 */
export type SearchError<O extends SearchOperation> = Effect.Effect.Error<ReturnType<O>>

type KeysOfUnion<T> = T extends unknown ? keyof T : never

type PageOf<O extends SearchOperation> = Input<O> extends { readonly page?: infer P } ? Exclude<P, undefined> : never

/**
 * `unknown` when the operation's `page` takes a cursor (`after`); otherwise a type no
 * operation has, so passing an offset-only or unpaged operation fails to compile with
 * this property's name in the message.
 *
 * @since 0.1.0
 * @category type-level
 */
export type CursorPaged<O extends SearchOperation> = "after" extends KeysOfUnion<PageOf<O>> ? unknown
  : { readonly "Search: this operation does not page with cursors (page.after)": never }

/**
 * The page size of a stream.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Items per request (`page.limit`), 100 unless set (the API's default). From 1 to
   * 10 000 (the spec's bound for cursor pages); another value fails the stream with
   * `InvalidRequest` before anything is sent.
   */
  readonly pageSize?: number | undefined
}

/**
 * The arguments after the operation: the query (optional when every field of it is), then {@link Options}.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Arguments<O extends SearchOperation> = {} extends Query<O>
  ? [query?: Query<O> | undefined, options?: Options | undefined]
  : [query: Query<O>, options?: Options | undefined]

/**
 * Every item of a search, page after page, as a lazy stream: the first request has no
 * cursor, each next one is `after` the previous `endCursor`; the stream ends after the
 * last page, and a request is made only when the stream needs more items.
 *
 * Works for every search operation whose `page` takes a cursor. The few that take only
 * `after` (job statistics) get their first page without `page`, at the server's
 * default size, and `pageSize` from the second page on.
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import { Keys, ProcessInstance, Search } from "effect-camunda"
 *
 * const keys = Search.stream(ProcessInstance.searchProcessInstances, {
 *   filter: { processDefinitionId: Keys.ProcessDefinitionId.make("shipment"), state: "ACTIVE" },
 *   sort: [{ field: "processInstanceKey", order: "ASC" }]
 * }).pipe(Stream.map((instance) => instance.processInstanceKey))
 * ```
 *
 * @since 0.1.0
 * @category streams
 */
export const stream = <O extends SearchOperation>(
  operation: O & CursorPaged<O>,
  ...[query, options]: Arguments<O>
): Stream.Stream<Item<O>, SearchError<O>, CamundaClient> =>
  internal.stream(operation, query as object | undefined, options) as Stream.Stream<Item<O>, SearchError<O>, CamundaClient>

/**
 * The same pages as {@link stream}, one element per request, each the whole answer
 * (`items`, `page.totalItems`, cursors).
 *
 * @since 0.1.0
 * @category streams
 */
export const pages = <O extends SearchOperation>(
  operation: O & CursorPaged<O>,
  ...[query, options]: Arguments<O>
): Stream.Stream<Page<O>, SearchError<O>, CamundaClient> =>
  internal.pages(operation, query as object | undefined, options) as Stream.Stream<Page<O>, SearchError<O>, CamundaClient>

/**
 * The page fetcher under {@link stream}, for your own loops or `Stream.paginateChunkEffect`:
 * given the cursor of the page to read after (none for the first page), one request,
 * answering the page's items and the cursor of the next page (none after the last page).
 *
 * @since 0.1.0
 * @category constructors
 */
export const pageFetcher = <O extends SearchOperation>(
  operation: O & CursorPaged<O>,
  ...[query, options]: Arguments<O>
): (
  after: Option.Option<Keys.EndCursor>
) => Effect.Effect<readonly [ReadonlyArray<Item<O>>, Option.Option<Keys.EndCursor>], SearchError<O>, CamundaClient> =>
  internal.fetchPage(operation, query as object | undefined, options) as any
