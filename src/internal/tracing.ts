import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Tracer from "effect/Tracer"

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

/** Effect's built-in tracer: its spans go nowhere, they are only seen by code that reads them from the context. */
const builtInTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/**
 * What goes out as the request's trace context when there is no operation span: the caller's
 * span, unless tracing is off.
 */
const callerTraceContext = (fiber: Fiber.RuntimeFiber<unknown, unknown>, enabled: boolean) =>
  enabled ? fiber.currentSpan : undefined

/**
 * Runs `use` with a span of its own that `use` hands on explicitly, instead of making it the
 * parent span of the fiber's context: changing the context (as `Effect.withSpan` does) costs
 * as much as the span itself, two copies of the fiber's refs and the bookkeeping that
 * restores them. For code whose own work needs the span by name (the operations: retry events,
 * permit waits, the `traceparent` header) and which gives it as parent only to the HTTP
 * client that asks for it (`internal/attemptRunner.ts`). The span is made by the fiber's
 * tracer with its annotations, links and parent, and ended with the exit, as
 * `Effect.withSpan` does.
 *
 * `use` gets the span and the trace context to send (the span itself). There is no span with
 * tracing off (`Effect.withTracerEnabled(false)`), and none with Effect's built-in tracer (no
 * tracer installed): nothing would ever see it, since it is in no context and that tracer
 * exports nothing. Then `use` gets `undefined` and, as trace context, the caller's span (none
 * with tracing off).
 *
 * `onExit` runs first however `use` ends, interruption included: the one finalizer the caller
 * would need anyway (the operations abort a request still in flight there).
 *
 * @internal
 */
export const withOwnSpan = <A, E, R>(
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  name: string,
  options: Tracer.SpanOptions,
  use: (span: Tracer.Span | undefined, traceContext: Tracer.AnySpan | undefined) => Effect.Effect<A, E, R>,
  onExit: (exit: Exit.Exit<A, E>) => void
): Effect.Effect<A, E, R> => {
  const enabled = fiber.getFiberRef(FiberRef.currentTracerEnabled)
  if (!enabled || fiber.currentTracer === builtInTracer) {
    return Effect.onExit(use(undefined, callerTraceContext(fiber, enabled)), (exit) => Effect.sync(() => onExit(exit)))
  }
  const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
  const timed = fiber.getFiberRef(FiberRef.currentTracerTimingEnabled)
  return Effect.flatMap(Effect.makeSpan(name, options), (span) =>
    Effect.onExit(use(span, span), (exit) =>
      Effect.sync(() => {
        onExit(exit)
        // only this call holds the span: nobody else ends it
        span.end(timed ? clock.unsafeCurrentTimeNanos() : BigInt(0), exit)
      })))
}
