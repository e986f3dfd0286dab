/**
 * The adaptive concurrency gate a client shares between its calls.
 *
 * While the cluster is healthy there is no limit at all: a burst of calls goes out over a few
 * round trips (a start window that doubles with each round trip answered, `startWindow`) and
 * then all at once. The first backpressure answer
 * (429, 503 `RESOURCE_EXHAUSTED`, …) caps concurrency at a fraction of what was in flight;
 * every further signal shrinks the cap multiplicatively, down to a floor; every window of
 * `limit` successful calls adds `recoveryStep` permits back, up to just below where the
 * cluster last said no, and one step per `probeInterval` beyond; after a quiet period without
 * signals the cap is lifted. Calls beyond the cap wait in a bounded queue (interruptibly);
 * when the queue is full they fail at once with `BackpressureQueueFull`.
 *
 * A logical call holds one permit across all its retries. Calls that drain work
 * (`completeJob`, `failJob`, `throwJobError`, `completeUserTask`), long-poll job activation
 * and reads never wait: they only report what they see.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Backpressure, CamundaClient } from "effect-camunda"
 *
 * // watch the gate of the client in context
 * const watch = Effect.flatMap(CamundaClient.CamundaClient, (client) =>
 *   Stream.runForEach(Backpressure.changes(client.gate), (state) => Effect.log(state)))
 * ```
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import type { BackpressureQueueFull, CamundaError } from "./CamundaError.js"
import * as internal from "./internal/backpressure.js"

/**
 * How the gate reacts, named like the official SDK's profiles
 * (`CAMUNDA_SDK_BACKPRESSURE_PROFILE`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Profile {
  readonly name: ProfileName
  /** Only observe and count signals; never limit (`LEGACY`). */
  readonly observeOnly: boolean
  /** On a signal the limit becomes `min(limit, attempts on the wire) × decreaseFactor`. */
  readonly decreaseFactor: number
  /** The limit never goes below this. */
  readonly floor: number
  /**
   * Permits added back per window of `limit` successful calls, while the limit is below the
   * one at which the cluster last said no.
   */
  readonly recoveryStep: number
  /** At and above the limit at which the cluster last said no, one step per this interval. */
  readonly probeInterval: Duration.Duration
  /** Calls that may wait for a permit; one more fails with `BackpressureQueueFull`. */
  readonly maxWaiters: number
  /** After this long without a signal the limit is lifted. */
  readonly unlimitedAfter: Duration.Duration
  /**
   * Slow start: an unlimited gate lets at most `max(startWindow, 2 × served)` gated attempts
   * go on the wire at once, where `served` is the most the cluster has answered at once
   * without a refusal (a 4xx answer counts, a transport failure does not). The window doubles
   * with every round trip answered, so a burst of calls reaches the cluster in a few round
   * trips instead of all at once, and far fewer of them are refused when the cluster takes
   * less than the burst. It is a window, not a limit: the gate stays unlimited and reports no
   * limit, and a healthy cluster pays those round trips only when demand jumps above twice
   * what it has served. `undefined` sends every burst at once.
   */
  readonly startWindow?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export type ProfileName = "BALANCED" | "CONSERVATIVE" | "AGGRESSIVE" | "LEGACY"

/**
 * The default: a start window of 16, shrink to 90 %, recover one permit per window, probe
 * every 2 s, lift the limit after 30 s quiet.
 *
 * @since 0.1.0
 * @category profiles
 */
export const balanced: Profile = {
  name: "BALANCED",
  observeOnly: false,
  decreaseFactor: 0.9,
  floor: 1,
  recoveryStep: 1,
  probeInterval: Duration.seconds(2),
  maxWaiters: 1000,
  unlimitedAfter: Duration.seconds(30),
  startWindow: 16
}

/**
 * Starts with a window of 8, backs off harder and recovers slower: for clusters shared with
 * other workloads.
 *
 * @since 0.1.0
 * @category profiles
 */
export const conservative: Profile = {
  name: "CONSERVATIVE",
  observeOnly: false,
  decreaseFactor: 0.7,
  floor: 1,
  recoveryStep: 1,
  probeInterval: Duration.seconds(4),
  maxWaiters: 500,
  unlimitedAfter: Duration.seconds(60),
  startWindow: 8
}

/**
 * Starts with a window of 32, backs off gently and recovers fast: for a cluster this client
 * has to itself.
 *
 * @since 0.1.0
 * @category profiles
 */
export const aggressive: Profile = {
  name: "AGGRESSIVE",
  observeOnly: false,
  decreaseFactor: 0.95,
  floor: 2,
  recoveryStep: 2,
  probeInterval: Duration.seconds(1),
  maxWaiters: 2000,
  unlimitedAfter: Duration.seconds(15),
  startWindow: 32
}

/**
 * Observe only: signals are counted and published, nothing is limited.
 *
 * @since 0.1.0
 * @category profiles
 */
export const legacy: Profile = { ...balanced, name: "LEGACY", observeOnly: true, startWindow: undefined }

/**
 * The profiles by name.
 *
 * @since 0.1.0
 * @category profiles
 */
export const profiles: Readonly<Record<ProfileName, Profile>> = {
  BALANCED: balanced,
  CONSERVATIVE: conservative,
  AGGRESSIVE: aggressive,
  LEGACY: legacy
}

/**
 * The gate's state; {@link changes} emits it whenever the limit, the queue or the signal
 * count changes.
 *
 * @since 0.1.0
 * @category models
 */
export interface State {
  readonly profile: ProfileName
  /** `None` while unlimited. */
  readonly limit: Option.Option<number>
  /** Gated calls holding a permit. */
  readonly inFlight: number
  /** Calls waiting for a permit. */
  readonly waiting: number
  /** Backpressure signals seen since the client was built. */
  readonly signals: number
}

/**
 * The gate of one client (`client.gate`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Gate {
  readonly profile: Profile
  /** The state now. */
  readonly state: Effect.Effect<State>
  /** Calls holding a permit now. */
  readonly inFlight: Effect.Effect<number>
  /** Calls `subscriber` with every change of the state until the returned function is called. */
  readonly subscribe: (subscriber: (state: State) => void) => () => void
  /**
   * Runs `effect` holding one permit, waiting (interruptibly) while the gate is full; the
   * permit is returned however `effect` ends. A wait is an event on `span`, by default the
   * fiber's current span.
   */
  readonly withPermit: <A, E, R>(
    operationId: string,
    effect: Effect.Effect<A, E, R>,
    span?: Tracer.Span
  ) => Effect.Effect<A, E | BackpressureQueueFull, R>
  /**
   * Runs one HTTP attempt and learns from its outcome: a backpressure answer shrinks the
   * limit, a success counts towards recovery. Every attempt of every operation is observed;
   * an attempt of a `gated` call also waits (interruptibly) while `limit` attempts are on
   * the wire, which happens only after a decrease, before the calls in excess have ended.
   */
  readonly observe: <A, R>(attempt: Effect.Effect<A, CamundaError, R>, gated: boolean) => Effect.Effect<A, CamundaError, R>
}

/**
 * A fresh gate.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (profile?: Profile) => Effect.Effect<Gate> = (profile = balanced) => internal.make(profile)

/**
 * The operations that never wait for a permit: they finish work the cluster already holds.
 *
 * @since 0.1.0
 * @category predicates
 */
export const drainsWork: ReadonlySet<string> = /*#__PURE__*/ new Set(["completeJob", "failJob", "throwJobError", "completeUserTask"])

/**
 * Whether an operation waits for a permit: commands do, except those that drain work and
 * long-poll job activation (which backs off by itself); reads and searches never do.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isGated = (operation: { readonly operationId: string; readonly safeToRepeat: boolean }): boolean =>
  !operation.safeToRepeat && !drainsWork.has(operation.operationId) && operation.operationId !== "activateJobs"

/**
 * The state of `gate` now and after every change, as a `Stream` (`SubscriptionRef.changes`
 * semantics). Built on `subscribe`, so a program that never watches bundles no `Stream`.
 *
 * @since 0.1.0
 * @category observability
 */
export const changes = (gate: Gate): Stream.Stream<State> =>
  Stream.asyncPush<State>((emit) =>
    Effect.acquireRelease(
      Effect.flatMap(gate.state, (state) =>
        Effect.sync(() => {
          emit.single(state)
          return gate.subscribe((next) => emit.single(next))
        })),
      (unsubscribe) => Effect.sync(unsubscribe)
    ), { bufferSize: "unbounded" })

/**
 * Metrics of every gate: `camunda_backpressure_limit` (gauge, 0 while unlimited),
 * `camunda_backpressure_signals_total`, `camunda_backpressure_waits_total`,
 * `camunda_backpressure_rejected_total`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics = internal.metrics
