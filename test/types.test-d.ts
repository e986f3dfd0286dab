/**
 * The error channel of an operation is exactly its declared statuses, the statuses any
 * cluster may answer, and the cross-cutting failures: nothing more, nothing less.
 */
import type * as Effect from "effect/Effect"
import { describe, expectTypeOf, it } from "vitest"
import type {
  BackpressureQueueFull,
  BadRequest,
  Conflict,
  DecodeError,
  Forbidden,
  GatewayTimeout,
  InternalServerError,
  InvalidRequest,
  NotFound,
  ServiceUnavailable,
  TooManyRequests,
  TransportError,
  Unauthorized,
  UnexpectedStatus
} from "effect-camunda/CamundaError"
import type * as CamundaClient from "effect-camunda/CamundaClient"
import { Cluster, Keys, UserTask } from "effect-camunda"
import * as UserTaskModule from "effect-camunda/UserTask"

type UserTaskMutationError =
  | BadRequest
  | NotFound
  | Conflict
  | InternalServerError
  | ServiceUnavailable
  | GatewayTimeout
  | Unauthorized
  | Forbidden
  | TooManyRequests
  | UnexpectedStatus
  | TransportError
  | DecodeError
  | InvalidRequest

type ErrorOf<F extends (...args: any) => Effect.Effect<any, any, any>> = Effect.Effect.Error<ReturnType<F>>

describe("error channels", () => {
  it("completeUserTask", () => {
    expectTypeOf<ErrorOf<typeof UserTask.completeUserTask>>().toEqualTypeOf<UserTaskMutationError>()
  })
  // commands that wait for a backpressure permit may be refused one; completeUserTask drains work and never waits
  it("updateUserTask", () => {
    expectTypeOf<ErrorOf<typeof UserTask.updateUserTask>>().toEqualTypeOf<UserTaskMutationError | BackpressureQueueFull>()
  })
  it("unassignUserTask", () => {
    expectTypeOf<ErrorOf<typeof UserTask.unassignUserTask>>().toEqualTypeOf<UserTaskMutationError | BackpressureQueueFull>()
  })
  it("getTopology declares 401 and 500 only", () => {
    expectTypeOf<ErrorOf<typeof Cluster.getTopology>>().toEqualTypeOf<
      | Unauthorized
      | InternalServerError
      | Forbidden
      | TooManyRequests
      | UnexpectedStatus
      | TransportError
      | DecodeError
      | InvalidRequest
    >()
  })
})

describe("signatures", () => {
  it("the subpath module is the same as the barrel's namespace", () => {
    expectTypeOf(UserTaskModule.completeUserTask).toEqualTypeOf(UserTask.completeUserTask)
  })
  it("a 204 operation succeeds with void and requires the client", () => {
    expectTypeOf(UserTask.completeUserTask({ userTaskKey: Keys.UserTaskKey.make("1") })).toEqualTypeOf<
      Effect.Effect<void, UserTaskMutationError, CamundaClient.CamundaClient>
    >()
  })
  it("operations without input take no argument; all-optional input is optional", () => {
    expectTypeOf(Cluster.getTopology).parameters.toEqualTypeOf<[]>()
    expectTypeOf(UserTask.searchUserTasks).toBeCallableWith()
  })
  it("keys are branded: a plain string is not a UserTaskKey", () => {
    // @ts-expect-error a plain string is not a UserTaskKey
    UserTask.completeUserTask({ userTaskKey: "1" })
  })
})
