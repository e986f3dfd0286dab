import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import type * as Backpressure from "../Backpressure.js"
import { BackpressureQueueFull, type CamundaError } from "../CamundaError.js"
import { isBackpressure } from "../Retry.js"

/** @internal */
export const metrics = {
  limit: Metric.gauge("camunda_backpressure_limit", {
    description: "The gate's concurrency limit; 0 while unlimited"
  }),
  signals: Metric.counter("camunda_backpressure_signals_total", {
    description: "Backpressure answers (429, 503 RESOURCE_EXHAUSTED, …) the gate saw",
    incremental: true
  }),
  waits: Metric.counter("camunda_backpressure_waits_total", {
    description: "Calls that waited for a permit",
    incremental: true
  }),
  rejected: Metric.counter("camunda_backpressure_rejected_total", {
    description: "Calls refused because the wait queue was full",
    incremental: true
  })
}

interface Waiter {
  granted: boolean
  resume?: ((effect: Effect.Effect<void>) => void) | undefined
}

type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/**
 * A count bounded by the gate's current limit, with a FIFO of fibers waiting for room. The
 * gate has two: permits (logical calls) and places on the wire (attempts).
 */
class Slots {
  taken = 0
  readonly waiters: Array<Waiter> = []

  constructor(private readonly limit: () => number | undefined) {}

  hasRoom(): boolean {
    const limit = this.limit()
    return limit === undefined || this.taken < limit
  }

  /** Hands free slots to waiters, first come first served. Returns whether anyone was let in. */
  admit(): boolean {
    let admitted = false
    while (this.waiters.length > 0 && this.hasRoom()) {
      const waiter = this.waiters.shift()!
      waiter.granted = true
      this.taken++
      admitted = true
      waiter.resume?.(Effect.void)
    }
    return admitted
  }

  /** Gives a slot back and lets waiters in. Returns whether anyone was let in. */
  free(): boolean {
    this.taken--
    return this.admit()
  }

  /**
   * Queues and waits (interruptibly, through `restore`) until a slot is handed over.
   * Interrupted while queued it leaves the queue; interrupted just after the grant it gives
   * the slot back; either way `afterInterrupt` runs then.
   */
  park(restore: Restore, afterInterrupt: Effect.Effect<void>): Effect.Effect<void> {
    const waiter: Waiter = { granted: false }
    this.waiters.push(waiter)
    const parked = Effect.async<void>((resume) => {
      if (waiter.granted) return resume(Effect.void)
      waiter.resume = resume
    })
    return restore(parked).pipe(
      Effect.onInterrupt(() =>
        Effect.zipRight(
          Effect.sync(() => {
            if (waiter.granted) return this.free()
            const index = this.waiters.indexOf(waiter)
            if (index >= 0) this.waiters.splice(index, 1)
          }),
          afterInterrupt
        )
      )
    )
  }
}

/** Records on the operation's span (given, else the fiber's current one) that the call waits for a permit. */
const recordWait = (position: number, limit: number, given: Tracer.Span | undefined) =>
  Effect.flatMap(Clock.currentTimeNanos, (now) =>
    Effect.withFiberRuntime<void>((fiber) => {
      const span = given ?? fiber.currentSpan
      if (span?._tag === "Span") {
        span.event("camunda.backpressure.wait", now, { "camunda.backpressure.position": position, "camunda.backpressure.limit": limit })
      }
      return Effect.void
    }))

/**
 * The gate's state lives in plain fields: every change is one synchronous step of one
 * fiber, so no lock is needed, and a healthy call costs two counter updates. What the
 * outside sees is handed to subscribers (`Backpressure.changes`) when the limit, the queue or
 * the signal count changes: plain callbacks, so a bundle that never watches pays for no `Stream`.
 *
 * @internal
 */
class GateImpl implements Backpressure.Gate {
  limit: number | undefined = undefined
  /** Gated calls holding a permit, and those waiting for one. */
  readonly permits = new Slots(() => (this.profile.observeOnly ? undefined : this.limit))
  /**
   * Attempts of gated calls on the wire (a call backing off holds a permit but sends
   * nothing), and those waiting to go while more calls hold permits than the limit allows.
   */
  readonly wire = new Slots(() => (this.profile.observeOnly ? undefined : this.limit ?? this.startCeiling()))
  /** The most gated attempts on the wire at once that the cluster answered without a refusal (slow start). */
  served = 0
  signalCount = 0
  /** Bumped on every decrease: a signal from an attempt sent before it says nothing about the new limit. */
  generationCount = 0
  successesSinceStep = 0
  lastSignalAt = 0
  /** The limit in force when the cluster last said no: recovery is fast below it and slow at it. */
  limitAtSignal = Number.POSITIVE_INFINITY
  /** When the limit last grew, for the slow probing at `limitAtSignal`. */
  lastStepAt = 0
  /** The generation that began when an unlimited gate first heard "no": a burst of unknown size. */
  burstGeneration = -1
  readonly subscribers = new Set<(state: Backpressure.State) => void>()

  constructor(readonly profile: Backpressure.Profile) {}

  /** With slow start (`Profile.startWindow`), how many gated attempts an unlimited gate lets on the wire. */
  private startCeiling(): number | undefined {
    const window = this.profile.startWindow
    return window === undefined ? undefined : Math.max(window, 2 * this.served)
  }

  /**
   * A gated attempt sent with `onTheWire` attempts out (itself included) came back without a
   * refusal: answered, if not always with success (a transport failure is no answer).
   */
  private recordServed(onTheWire: number, error?: CamundaError): Effect.Effect<void> {
    if (onTheWire > this.served && error?._tag !== "TransportError") {
      this.served = onTheWire
      // a larger window lets more of those waiting for the wire go
      if (this.limit === undefined) this.wire.admit()
    }
    return Effect.void
  }

  readonly inFlight = Effect.sync(() => this.permits.taken)

  readonly state = Effect.sync(() => this.snapshot())

  subscribe(subscriber: (state: Backpressure.State) => void): () => void {
    this.subscribers.add(subscriber)
    return () => this.subscribers.delete(subscriber)
  }

  private snapshot(): Backpressure.State {
    return {
      profile: this.profile.name,
      limit: Option.fromNullable(this.limit),
      inFlight: this.permits.taken,
      waiting: this.permits.waiters.length,
      signals: this.signalCount
    }
  }

  private readonly publish = Effect.suspend(() => {
    if (this.subscribers.size > 0) {
      const state = this.snapshot()
      for (const subscriber of this.subscribers) subscriber(state)
    }
    return Metric.set(metrics.limit, this.limit ?? 0)
  })

  private readonly release = Effect.suspend(() => (this.permits.free() ? this.publish : Effect.void))

  private wait(restore: Restore, operationId: string, span: Tracer.Span | undefined) {
    const waiting = this.permits.waiters.length
    if (waiting >= this.profile.maxWaiters) {
      return Effect.zipRight(
        Metric.increment(metrics.rejected),
        Effect.fail(new BackpressureQueueFull({ operationId, waiting, limit: this.limit ?? 0 }))
      )
    }
    const parked = this.permits.park(restore, this.publish)
    return Effect.zipRight(
      Effect.all([this.publish, Metric.increment(metrics.waits), recordWait(waiting + 1, this.limit ?? 0, span)], { discard: true }),
      Effect.zipRight(parked, this.publish)
    )
  }

  withPermit<A, E, R>(operationId: string, effect: Effect.Effect<A, E, R>, span?: Tracer.Span) {
    return Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        if (this.permits.hasRoom()) {
          this.permits.taken++
          return Effect.ensuring(restore(effect), this.release)
        }
        return Effect.zipRight(this.wait(restore, operationId, span), Effect.ensuring(restore(effect), this.release))
      })
    ) as Effect.Effect<A, E | BackpressureQueueFull, R>
  }

  observe<A, R>(attempt: Effect.Effect<A, CamundaError, R>, gated: boolean): Effect.Effect<A, CamundaError, R> {
    if (!gated) {
      // nothing to hold or free: only what the answer says about the cluster
      return Effect.suspend(() => {
        const generation = this.generationCount
        const refused = (error: CamundaError) => Effect.zipRight(this.onBackpressure(generation, undefined), Effect.fail(error))
        // while unlimited a success says nothing new (see `onSuccess`): only a refusal is news
        return this.limit === undefined
          ? Effect.catchIf(attempt, isBackpressure, refused)
          : Effect.matchEffect(attempt, {
            onFailure: (error) => (isBackpressure(error) ? refused(error) : Effect.fail(error)),
            onSuccess: (value) => Effect.as(this.onSuccess(generation), value)
          })
      })
    }
    return Effect.uninterruptibleMask((restore) =>
      Effect.suspend(() => {
        const send = Effect.suspend(() => {
          const generation = this.generationCount
          const onTheWire = this.wire.taken
          return Effect.matchEffect(Effect.ensuring(restore(attempt), this.attemptEnded), {
            onFailure: (error) =>
              Effect.zipRight(
                isBackpressure(error) ? this.onBackpressure(generation, onTheWire) : this.recordServed(onTheWire, error),
                Effect.fail(error)
              ),
            onSuccess: (value) => Effect.as(Effect.zipRight(this.recordServed(onTheWire), this.onSuccess(generation)), value)
          })
        })
        // After a decrease more calls may hold permits than the limit allows: their retries go
        // on the wire only as earlier attempts come back, so the cluster sees at most `limit`.
        if (this.wire.hasRoom()) {
          this.wire.taken++
          return send
        }
        return Effect.zipRight(this.wire.park(restore, Effect.void), send)
      })
    )
  }

  private readonly attemptEnded = Effect.sync(() => {
    this.wire.free()
  })

  /**
   * A refusal. `sentWith` is how many gated attempts were on the wire when a gated one was
   * sent (itself included), `undefined` for an ungated call.
   */
  private onBackpressure(sentInGeneration: number, sentWith: number | undefined) {
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      this.signalCount++
      this.lastSignalAt = now
      const count = Metric.increment(metrics.signals)
      // What the cluster takes is about what was on the wire when it said no (those still
      // waiting for an answer are mostly being served): shrink below that, never below the floor.
      // An ungated call told off while no gated one is on the wire says nothing about the limit.
      const onTheWire = this.wire.taken + (sentWith === undefined ? 0 : 1)
      const shrunk = Math.max(this.profile.floor, Math.floor(onTheWire * this.profile.decreaseFactor))
      if (this.profile.observeOnly || onTheWire === 0) return Effect.zipRight(count, this.publish)
      // Sent with more on the wire than the limit now allows: sent under a limit the first
      // burst's refusals have lowered since, so it says nothing about the current one.
      const sentAboveLimit = sentWith !== undefined && this.limit !== undefined && sentWith > this.limit
      if (sentAboveLimit && sentInGeneration === this.generationCount) return Effect.zipRight(count, this.publish)
      if (sentInGeneration < this.generationCount) {
        // An attempt sent under an older limit says nothing about the current one, except in
        // the first burst of an unlimited gate: its refusals come back while the wire empties
        // down to what the cluster serves, so the last of them tell the size best.
        if (sentInGeneration === this.burstGeneration - 1 && this.generationCount === this.burstGeneration) {
          this.limit = Math.min(this.limit!, shrunk)
          this.limitAtSignal = Math.min(this.limitAtSignal, onTheWire)
        }
        return Effect.zipRight(count, this.publish)
      }
      if (this.limit === undefined) this.burstGeneration = this.generationCount + 1
      this.limitAtSignal = Math.min(this.limit ?? Number.POSITIVE_INFINITY, onTheWire)
      this.lastStepAt = now
      this.limit = Math.max(this.profile.floor, Math.floor(this.limitAtSignal * this.profile.decreaseFactor))
      this.generationCount++
      this.successesSinceStep = 0
      return Effect.zipRight(count, this.publish)
    })
  }

  private onSuccess(sentInGeneration: number): Effect.Effect<void> {
    // only calls sent under the current limit say that it is safe
    if (this.limit === undefined || sentInGeneration < this.generationCount) return Effect.void
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const limit = this.limit
      if (limit === undefined) return Effect.void
      if (now - this.lastSignalAt >= Duration.toMillis(this.profile.unlimitedAfter)) {
        this.limit = undefined
      } else if (++this.successesSinceStep < limit) {
        return Effect.void
      } else if (limit + 1 < this.limitAtSignal || now - this.lastStepAt >= Duration.toMillis(this.profile.probeInterval)) {
        // additive increase: `recoveryStep` more permits per window of `limit` successful calls,
        // up to just below where the cluster said no; beyond, one step per probe interval
        this.successesSinceStep = 0
        this.lastStepAt = now
        this.limit = limit + this.profile.recoveryStep
      } else {
        this.successesSinceStep = 0
        return Effect.void
      }
      this.permits.admit()
      this.wire.admit()
      return this.publish
    })
  }
}

/** @internal */
export const make = (profile: Backpressure.Profile): Effect.Effect<Backpressure.Gate> =>
  Effect.sync(() => new GateImpl(profile))
