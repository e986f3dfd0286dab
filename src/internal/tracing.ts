import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
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

/**
 * Runs `use` with a span of its own that `use` hands on explicitly, instead of making it the
 * parent span of the fiber's context: changing the context (as `Effect.withSpan` does) costs
 * as much as the span itself, two copies of the fiber's refs and the bookkeeping that
 * restores them. For code whose own work needs the span by name (the operations: retry events,
 * permit waits, the `traceparent` header) and which gives it as parent only to the HTTP
 * client that asks for it (`internal/attemptRunner.ts`). The span is made by the fiber's
 * tracer with its annotations, links and parent, and ended with the exit, as
 * `Effect.withSpan` does; with tracing off `use` gets `undefined` and there is no span at all.
 * `onExit` runs first however `use` ends, interruption included: the one finalizer the caller
 * would need anyway (the operations abort a request still in flight there).
 *
 * @internal
 */
export const withOwnSpan = <A, E, R>(
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  name: string,
  options: () => Tracer.SpanOptions,
  use: (span: Tracer.Span | undefined) => Effect.Effect<A, E, R>,
  onExit: (exit: Exit.Exit<A, E>) => void
): Effect.Effect<A, E, R> => {
  if (!fiber.getFiberRef(FiberRef.currentTracerEnabled)) {
    return Effect.onExit(use(undefined), (exit) => Effect.sync(() => onExit(exit)))
  }
  const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
  const timed = fiber.getFiberRef(FiberRef.currentTracerTimingEnabled)
  return Effect.flatMap(Effect.makeSpan(name, options()), (span) =>
    Effect.onExit(use(span), (exit) =>
      Effect.sync(() => {
        onExit(exit)
        // only this call holds the span: nobody else ends it
        span.end(timed ? clock.unsafeCurrentTimeNanos() : BigInt(0), exit)
      })))
}
