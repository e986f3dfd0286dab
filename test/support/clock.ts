/**
 * Driving the TestClock while an effect runs.
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"

/** Runs `effect` in the background and moves the TestClock by `step` until it is done; returns its Either. */
export const runWithClock = <A, E, R>(effect: Effect.Effect<A, E, R>, step: Duration.DurationInput = "50 millis", maxSteps = 1000) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.either(effect))
    for (let i = 0; i < maxSteps; i++) {
      const done = yield* Fiber.poll(fiber)
      if (done._tag === "Some") break
      yield* TestClock.adjust(step)
    }
    return yield* Fiber.join(fiber)
  })
