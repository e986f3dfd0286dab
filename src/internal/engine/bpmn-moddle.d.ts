// bpmn-moddle ships types but does not export them from its package entry.
declare module "bpmn-moddle" {
  export class BpmnModdle {
    constructor(packages?: Record<string, unknown>)
    fromXML(xml: string): Promise<{ readonly rootElement: unknown; readonly warnings: ReadonlyArray<unknown> }>
  }
}
