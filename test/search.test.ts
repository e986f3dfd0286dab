/**
 * Search streams: cursor pagination on the embedded engine (requests counted through a
 * wrapped HttpClient), and every cursor-paged search of the registry through an in-memory
 * HttpClient.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import { describe, expect, it } from "@effect/vitest"
import * as Arbitrary from "effect/Arbitrary"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as FastCheck from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import * as Stream from "effect/Stream"
import * as Api from "effect-camunda"
import { CamundaClient, Keys, ProcessInstance, Resource, Retry, Search, UserTask } from "effect-camunda"
import { operations } from "effect-camunda/operations"
import * as TestEngine from "effect-camunda/testkit"
import { bpmn, userTaskProcess } from "./support/engine.js"
import { json, mockHttp, type Recorded } from "./support/mockHttp.js"

interface Sent {
  readonly path: string
  readonly body: any
}

/** A client on a fresh engine whose HttpClient records every request it passes on. */
const recordingEngine = () => {
  const sent: Array<Sent> = []
  const http = Layer.effect(
    HttpClient.HttpClient,
    Effect.map(TestEngine.TestEngine, (engine) =>
      HttpClient.tapRequest(engine.httpClient, (request) =>
        Effect.sync(() => {
          const body = request.body
          sent.push({
            path: new URL(request.url, "http://engine").pathname,
            body: body._tag === "Uint8Array" && body.body.length > 0 ? JSON.parse(new TextDecoder().decode(body.body)) : undefined
          })
        })))
  )
  const layer = CamundaClient.layer({ retry: Retry.none }).pipe(Layer.provide(http), Layer.provideMerge(TestEngine.layer()))
  const searches = () => sent.filter((request) => request.path.endsWith("/user-tasks/search"))
  return { layer, searches }
}

/** `count` open user tasks of process `inbox`. */
const tasks = (count: number) =>
  Effect.gen(function*() {
    yield* Resource.createDeployment({ resources: [bpmn("inbox.bpmn", userTaskProcess("inbox"))] })
    yield* Effect.forEach(
      Array.from({ length: count }),
      () => ProcessInstance.createProcessInstance({ processDefinitionId: Keys.ProcessDefinitionId.make("inbox") }),
      { discard: true }
    )
  })

const byCreation = [{ field: "creationDate" as const, order: "ASC" as const }]

describe("Search.stream on the engine", () => {
  const engine = recordingEngine()

  it.effect("250 tasks, page size 100: 250 distinct tasks in 3 requests, the first without a cursor", () =>
    Effect.gen(function*() {
      yield* tasks(250)
      const items = Chunk.toReadonlyArray(
        yield* Stream.runCollect(Search.stream(UserTask.searchUserTasks, { filter: { state: "CREATED" }, sort: byCreation }, { pageSize: 100 }))
      )
      expect(items).toHaveLength(250)
      expect(new Set(items.map((task) => task.userTaskKey)).size).toBe(250)
      const requests = engine.searches()
      expect(requests).toHaveLength(3)
      expect(requests[0]!.body).toEqual({ filter: { state: "CREATED" }, sort: byCreation, page: { limit: 100 } })
      expect(requests[1]!.body.page).toEqual({ after: expect.any(String), limit: 100 })
      expect(requests[2]!.body.page).toEqual({ after: expect.any(String), limit: 100 })
      expect(requests[1]!.body.page.after).not.toBe(requests[2]!.body.page.after)
      // the cursor sent is the previous answer's endCursor
      const first = yield* UserTask.searchUserTasks({ filter: { state: "CREATED" }, sort: byCreation, page: { limit: 100 } })
      expect(requests[1]!.body.page.after).toBe(first.page.endCursor)
    }).pipe(Effect.provide(engine.layer)))

  it.effect("Stream.take(1) costs one request", () => {
    const engine = recordingEngine()
    return Effect.gen(function*() {
      yield* tasks(250)
      const taken = yield* Stream.runCollect(Stream.take(Search.stream(UserTask.searchUserTasks, {}, { pageSize: 100 }), 1))
      expect(Chunk.size(taken)).toBe(1)
      expect(engine.searches()).toHaveLength(1)
      // 150 items are two pages: still one request per page, none ahead
      yield* Stream.runDrain(Stream.take(Search.stream(UserTask.searchUserTasks, undefined, { pageSize: 100 }), 150))
      expect(engine.searches()).toHaveLength(3)
    }).pipe(Effect.provide(engine.layer))
  })

  it.effect("an empty result: one request, no items; a full last page: one more request that finds nothing", () => {
    const engine = recordingEngine()
    return Effect.gen(function*() {
      yield* tasks(4)
      const none = yield* Stream.runCollect(Search.stream(UserTask.searchUserTasks, { filter: { assignee: "nobody" } }))
      expect(Chunk.size(none)).toBe(0)
      expect(engine.searches()).toHaveLength(1)
      expect(engine.searches()[0]!.body.page).toEqual({ limit: 100 })
      const all = yield* Stream.runCollect(Search.stream(UserTask.searchUserTasks, {}, { pageSize: 2 }))
      expect(Chunk.size(all)).toBe(4)
      // 2 + 2 + an empty page that has no endCursor
      expect(engine.searches()).toHaveLength(4)
    }).pipe(Effect.provide(engine.layer))
  })

  it.effect("pages: one element per request with the page metadata; pageFetcher: [items, Option<cursor>]", () => {
    const engine = recordingEngine()
    return Effect.gen(function*() {
      yield* tasks(5)
      const pages = Chunk.toReadonlyArray(yield* Stream.runCollect(Search.pages(UserTask.searchUserTasks, { sort: byCreation }, { pageSize: 2 })))
      expect(pages.map((page) => page.items.length)).toEqual([2, 2, 1])
      expect(pages.map((page) => page.page.totalItems)).toEqual([5, 5, 5])
      const fetch = Search.pageFetcher(UserTask.searchUserTasks, { sort: byCreation }, { pageSize: 3 })
      const [first, next] = yield* fetch(Option.none())
      expect(first).toHaveLength(3)
      expect(Option.isSome(next)).toBe(true)
      const [second, end] = yield* fetch(next)
      expect(second).toHaveLength(2)
      expect(end).toEqual(Option.none())
      expect(new Set([...first, ...second].map((task) => task.userTaskKey)).size).toBe(5)
    }).pipe(Effect.provide(engine.layer))
  })

  it.effect("a failing page fails the stream with the operation's typed error, after the pages before it", () => {
    const engine = recordingEngine()
    return Effect.gen(function*() {
      yield* tasks(150)
      const testEngine = yield* TestEngine.TestEngine
      let seen = 0
      const error = yield* Search.stream(UserTask.searchUserTasks, {}, { pageSize: 100 }).pipe(
        // the second page is requested only once the first has been consumed
        Stream.tap(() => (++seen === 1 ? testEngine.failNext("searchUserTasks", 1, 500) : Effect.void)),
        Stream.runDrain,
        Effect.flip
      )
      expect(seen).toBe(100)
      expect(error._tag).toBe("InternalServerError")
      expect(engine.searches()).toHaveLength(2)
      // typed: catchTag narrows to the operation's errors
      const recovered = yield* Search.stream(UserTask.searchUserTasks, {}, { pageSize: 0 }).pipe(
        Stream.runDrain,
        Effect.as("drained"),
        Effect.catchTag("InvalidRequest", (invalid) => Effect.succeed(invalid.operationId))
      )
      // an invalid page size fails before anything is sent
      expect(recovered).toBe("searchUserTasks")
      const tooLarge = yield* Effect.flip(Stream.runDrain(Search.stream(UserTask.searchUserTasks, {}, { pageSize: 10_001 })))
      expect(tooLarge.message).toBe("InvalidRequest [searchUserTasks]: pageSize must be an integer from 1 to 10000, got 10001")
      expect(engine.searches()).toHaveLength(2)
    }).pipe(Effect.provide(engine.layer))
  })
})

// ---------------------------------------------------------------------------------------
// Every search of the registry

const modules = Api as unknown as Record<string, Record<string, Search.SearchOperation>>

const propertyType = (ast: AST.AST, name: string): AST.AST | undefined =>
  AST.getPropertySignatures(ast).find((signature) => signature.name === name)?.type

const cursor = (n: number) => Buffer.from(`cursor-${n}`).toString("base64")

/**
 * Independently of the implementation: an operation is a cursor-paged search when its
 * input's `page` validates `{ after, limit }` and its JSON answer has `items` (an array)
 * and `page.endCursor`.
 */
const cursorPaged = Object.values(operations).flatMap((info) => {
  const operation = modules[info.module]?.[info.operationId]
  if (operation === undefined) throw new Error(`${info.operationId} is not exported by ${info.module}`)
  const { input, responses } = operation.descriptor
  const page = input === undefined ? undefined : propertyType(input.ast, "page")
  // excess properties are errors: `{ from?, limit? }` must not pass for `{ after, limit }`
  if (page === undefined || !Schema.is(Schema.make(page), { onExcessProperty: "error" })({ after: cursor(0), limit: 2 })) return []
  const success = responses[200]
  if (success?._tag !== "Json") return []
  const items = propertyType(success.schema.ast, "items")
  const answerPage = propertyType(success.schema.ast, "page")
  if (items?._tag !== "TupleType" || answerPage === undefined || propertyType(answerPage, "endCursor") === undefined) return []
  return [{ info, operation, input: input!, success: success.schema, item: Schema.make(items.rest[0]!.type) }]
})

const sample = <A, I>(schema: Schema.Schema<A, I>, seed: number): A => FastCheck.sample(Arbitrary.make(schema), { numRuns: 1, seed })[0]!

describe("Search.stream covers every cursor-paged search of the registry", () => {
  it("finds them: the searches with a cursor page, and the statistics that page with `after` only", () => {
    const ids = cursorPaged.map(({ info }) => info.operationId)
    expect(ids).toContain("searchUserTasks")
    expect(ids).toContain("searchUsersForGroup")
    expect(ids).toContain("getJobTypeStatistics")
    // offset-only pages are not cursor-paged
    expect(ids).not.toContain("getProcessDefinitionInstanceStatistics")
    expect(ids).not.toContain("searchUserTaskEffectiveVariables")
    // every operation named search* that pages by cursor
    const searches = Object.values(operations).filter((info) => info.operationId.startsWith("search"))
    expect(ids.filter((id) => id.startsWith("search")).length).toBe(searches.length - 1) // searchUserTaskEffectiveVariables: offset only
    expect(ids.length).toBe(45)
  })

  it.effect("a server whose endCursor does not move ends the stream instead of looping", () => {
    const { item, success } = cursorPaged.find(({ info }) => info.operationId === "searchUserTasks")!
    const value = sample(item, 11)
    const mock = mockHttp(() =>
      json(
        200,
        Schema.encodeSync(success)({
          items: [value, value],
          page: { totalItems: 9, hasMoreTotalItems: false, startCursor: cursor(0), endCursor: cursor(1) }
        })
      )
    )
    return Effect.gen(function*() {
      const items = yield* Stream.runCollect(Search.stream(UserTask.searchUserTasks, {}, { pageSize: 2 }))
      expect(Chunk.size(items)).toBe(4)
      expect(mock.requests).toHaveLength(2)
    }).pipe(Effect.provide(mock.layer()))
  })

  it.effect("each: first request without a cursor, the next after the first endCursor, ends after a short page", () =>
    Effect.forEach(cursorPaged, ({ info, input, item, operation, success }) => {
      const answer = (items: number, end: string) => {
        const value = sample(item, 11)
        // a search answer has `items` and `page`, nothing else
        const body = Schema.encodeSync(success)({
          items: Array.from({ length: items }, () => value),
          page: { totalItems: 3, hasMoreTotalItems: false, startCursor: cursor(0), endCursor: end }
        })
        return json(200, body)
      }
      const mock = mockHttp((request: Recorded) =>
        mock.requests.length === 1 ? answer(2, cursor(1)) : answer(1, cursor(2)))
      // the required fields only (path parameters, a required filter): sampling whole filters is slow
      const query = Object.fromEntries(
        AST.getPropertySignatures(input.ast)
          .filter((signature) => !signature.isOptional)
          .map((signature) => [signature.name, sample(Schema.make(signature.type), 3)])
      )
      return Effect.gen(function*() {
        const items = yield* Stream.runCollect(Search.stream(operation as any, query, { pageSize: 2 }))
        const bodies = mock.requests.map((request) => (request.text === undefined ? {} : JSON.parse(request.text)))
        expect({ id: info.operationId, items: Chunk.size(items), requests: bodies.length }).toEqual({
          id: info.operationId,
          items: 3,
          requests: 2
        })
        // only `after`-only pages (CursorForwardPagination) go without `page` at first
        const forwardOnly = !Schema.is(Schema.make(propertyType(input.ast, "page")!))({ limit: 2 })
        expect({ id: info.operationId, page: bodies[0].page }).toEqual({ id: info.operationId, page: forwardOnly ? undefined : { limit: 2 } })
        expect({ id: info.operationId, page: bodies[1].page }).toEqual({ id: info.operationId, page: { after: cursor(1), limit: 2 } })
        // path and query parameters of the query are sent on every page
        expect(mock.requests[1]!.url.pathname).toBe(mock.requests[0]!.url.pathname)
        expect(mock.requests[1]!.url.search).toBe(mock.requests[0]!.url.search)
      }).pipe(Effect.provide(mock.layer()))
    }, { discard: true }))
})
