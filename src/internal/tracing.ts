import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import type * as Tracer from "effect/Tracer"

/**
 * `Effect.withSpan(effect, name, options())`, unless tracing is off
 * (`Effect.withTracerEnabled(false)`): then no span at all, not even Effect's no-op one, whose
 * bookkeeping costs about a tenth of a call. `options` is only built when there is a span.
 *
 * @internal
 */
export const withSpanWhenTracing = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  name: string,
  options: () => Tracer.SpanOptions
): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime<A, E, R>((fiber) =>
    fiber.getFiberRef(FiberRef.currentTracerEnabled) ? Effect.withSpan(effect, name, options()) : effect
  )
