/**
 * A tracer that keeps every span it starts, for tests that look at spans and their events.
 */
import * as Effect from "effect/Effect"
import * as Tracer from "effect/Tracer"

/** The current tracer, wrapped so that `spans` holds every span it starts, in order. */
export const recordingTracer = Effect.map(Effect.tracer, (base) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = base.span(...args)
      spans.push(span)
      return span
    },
    context: base.context
  })
  return { tracer, spans }
})
