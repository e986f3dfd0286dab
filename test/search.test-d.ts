/**
 * Search streams take their element, error and query types from the operation, accept
 * every cursor-paged search, and refuse the rest at compile time.
 */
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Stream from "effect/Stream"
import { describe, expectTypeOf, it } from "vitest"
import type * as Api from "effect-camunda"
import { Group, Incident, Job, Keys, Models, ProcessDefinition, ProcessInstance, Search, UserTask, Variable } from "effect-camunda"
import type * as CamundaClient from "effect-camunda/CamundaClient"

type ErrorOf<F extends (...args: any) => Effect.Effect<any, any, any>> = Effect.Effect.Error<ReturnType<F>>

describe("Search.stream", () => {
  it("streams the operation's items with the operation's errors", () => {
    const tasks = Search.stream(UserTask.searchUserTasks, { filter: { state: "CREATED" } }, { pageSize: 50 })
    expectTypeOf(tasks).toEqualTypeOf<
      Stream.Stream<Models.UserTaskResult, ErrorOf<typeof UserTask.searchUserTasks>, CamundaClient.CamundaClient>
    >()
    expectTypeOf(Search.stream(ProcessInstance.searchProcessInstances)).toEqualTypeOf<
      Stream.Stream<
        Models.ProcessInstanceResult,
        ErrorOf<typeof ProcessInstance.searchProcessInstances>,
        CamundaClient.CamundaClient
      >
    >()
    expectTypeOf<Search.Item<typeof Variable.searchVariables>>().toEqualTypeOf<Models.VariableSearchResult>()
    expectTypeOf<Search.Item<typeof Job.getJobTypeStatistics>>().toEqualTypeOf<Models.JobTypeStatisticsItem>()
  })

  it("pages and the page fetcher are typed the same way", () => {
    expectTypeOf(Search.pages(UserTask.searchUserTasks)).toEqualTypeOf<
      Stream.Stream<Models.UserTaskSearchQueryResult, ErrorOf<typeof UserTask.searchUserTasks>, CamundaClient.CamundaClient>
    >()
    expectTypeOf(Search.pageFetcher(UserTask.searchUserTasks)).toEqualTypeOf<
      (
        after: Option.Option<Keys.EndCursor>
      ) => Effect.Effect<
        readonly [ReadonlyArray<Models.UserTaskResult>, Option.Option<Keys.EndCursor>],
        ErrorOf<typeof UserTask.searchUserTasks>,
        CamundaClient.CamundaClient
      >
    >()
  })

  it("takes the query without `page`, required fields required", () => {
    Search.stream(Group.searchUsersForGroup, { groupId: "sales" })
    // @ts-expect-error groupId is required
    Search.stream(Group.searchUsersForGroup)
    // @ts-expect-error the stream owns `page`
    Search.stream(UserTask.searchUserTasks, { page: { limit: 5 } })
    // @ts-expect-error the filter is the operation's
    Search.stream(UserTask.searchUserTasks, { filter: { notAField: 1 } })
    // @ts-expect-error pageSize is a number
    Search.stream(UserTask.searchUserTasks, {}, { pageSize: "100" })
    expectTypeOf<Search.Query<typeof UserTask.searchUserTasks>>().toEqualTypeOf<
      Omit<Models.UserTaskSearchQuery, "page">
    >()
  })

  it("refuses operations that do not page with cursors", () => {
    // @ts-expect-error offset pagination only
    Search.stream(ProcessDefinition.getProcessDefinitionInstanceStatistics)
    // @ts-expect-error not a search
    Search.stream(UserTask.getUserTask, { userTaskKey: Keys.UserTaskKey.make("1") })
  })
})

// Every operation of every module, at the type level.
type Namespaces = typeof Api
type OperationsOf<M> = { [K in keyof M]: M[K] extends Search.SearchOperation ? M[K] : never }[keyof M]
type AllPaged = { [M in keyof Namespaces]: OperationsOf<Namespaces[M]> }[keyof Namespaces]
type CursorPaged = AllPaged extends infer O ? O extends Search.SearchOperation ? unknown extends Search.CursorPaged<O> ? O : never
  : never
  : never
type NotCursorPaged = AllPaged extends infer O
  ? O extends Search.SearchOperation ? unknown extends Search.CursorPaged<O> ? never : O
  : never
  : never
type WithoutItems = CursorPaged extends infer O ? O extends Search.SearchOperation ? [Search.Item<O>] extends [never] ? O : never
  : never
  : never

describe("every cursor-paged search of the registry", () => {
  it("is accepted, with a known item type", () => {
    expectTypeOf<WithoutItems>().toBeNever()
    expectTypeOf<typeof UserTask.searchUserTasks>().toMatchTypeOf<CursorPaged>()
    expectTypeOf<typeof Group.searchUsersForGroup>().toMatchTypeOf<CursorPaged>()
    expectTypeOf<typeof Job.getJobTypeStatistics>().toMatchTypeOf<CursorPaged>()
    expectTypeOf<Extract<CursorPaged, typeof ProcessDefinition.getProcessDefinitionInstanceStatistics>>().toBeNever()
  })

  it("leaves out exactly the searches that page by offset only", () => {
    expectTypeOf<NotCursorPaged>().toEqualTypeOf<
      | typeof ProcessDefinition.getProcessDefinitionInstanceStatistics
      | typeof ProcessDefinition.getProcessDefinitionInstanceVersionStatistics
      | typeof Incident.getProcessInstanceStatisticsByDefinition
      | typeof Incident.getProcessInstanceStatisticsByError
      | typeof UserTask.searchUserTaskEffectiveVariables
    >()
  })
})
