/**
 * The local interpreter runs a Distributed Map as an inline Map: it ignores ItemReader, ResultWriter and the
 * tolerated-failure settings. This rewrite makes those features explicit states the interpreter does run:
 *
 *   before the map   "<map> · ItemReader"   reads the items from S3 into the state (ItemsPath points at them)
 *   in each child    a Parallel wrapper whose Catch turns a failed child into a marked result, not a failed map
 *   after the map    "<map> · ResultWriter" counts failed children against the tolerance, writes the results
 *                    to S3 the way Step Functions lays them out, and restores the map's own ResultPath
 */
type State = Record<string, any>;
type StateMachineDefinition = { StartAt: string; States: Record<string, State> };

export const ITEMS_KEY = '__dossier_items';
export const RESULTS_KEY = '__dossier_map_results';
export const CHILD_FAILED_KEY = '__dossier_child_failed';
export const CHILD_OUTPUT_KEY = '__dossier_child_output';
const LOCAL_TASK_RESOURCE = 'arn:aws:lambda:us-east-1:000000000000:function:dossier-local-emulation';

/** What the two inserted Task states need to run, handed to the local handlers by state name. */
export interface MapEmulation {
  mapState: string;
  readerState?: string;
  writerState: string;
  itemReader?: State;
  resultWriter?: State;
  toleratedFailurePercentage?: number;
  toleratedFailureCount?: number;
  /** The map's own ResultPath, applied by the writer state once the results are written. */
  resultPath: string | null | undefined;
}

function retarget(states: Record<string, State>, from: string, to: string, skip: Set<string>): void {
  for (const [name, state] of Object.entries(states)) {
    if (skip.has(name)) continue;
    if (state.Next === from) state.Next = to;
    if (state.Default === from) state.Default = to;
    for (const choice of state.Choices ?? []) if (choice.Next === from) choice.Next = to;
    for (const catcher of state.Catch ?? []) if (catcher.Next === from) catcher.Next = to;
  }
}

function rewriteScope(definition: StateMachineDefinition, emulations: MapEmulation[]): void {
  for (const [name, state] of Object.entries({ ...definition.States })) {
    if (state.Type === 'Parallel') for (const branch of state.Branches) rewriteScope(branch, emulations);
    if (state.Type !== 'Map') continue;
    const processor = state.ItemProcessor ?? state.Iterator;
    rewriteScope(processor, emulations);
    if (processor.ProcessorConfig?.Mode !== 'DISTRIBUTED') continue;

    const emulation: MapEmulation = {
      mapState: name,
      writerState: `${name} · ResultWriter`,
      itemReader: state.ItemReader,
      resultWriter: state.ResultWriter,
      toleratedFailurePercentage: state.ToleratedFailurePercentage,
      toleratedFailureCount: state.ToleratedFailureCount,
      resultPath: state.ResultPath,
    };

    if (state.ItemReader) {
      emulation.readerState = `${name} · ItemReader`;
      definition.States[emulation.readerState] = {
        Type: 'Task',
        Resource: LOCAL_TASK_RESOURCE,
        // The reader's parameters are evaluated against the map's input, as Step Functions does.
        Parameters: state.ItemReader.Parameters ?? {},
        ResultPath: `$.${ITEMS_KEY}`,
        Next: name,
        // A reader failure is the map's failure: the map's Catch handles it.
        ...(state.Catch ? { Catch: state.Catch } : {}),
      };
      retarget(definition.States, name, emulation.readerState, new Set([emulation.readerState]));
      if (definition.StartAt === name) definition.StartAt = emulation.readerState;
      delete state.ItemReader;
      state.ItemsPath = `$.${ITEMS_KEY}`;
    }

    // Each child runs inside a Parallel whose Catch marks a failure instead of failing the whole map.
    const { ProcessorConfig, ...childMachine } = processor;
    const wrapped = {
      ProcessorConfig,
      StartAt: 'Child',
      States: {
        Child: {
          Type: 'Parallel',
          Branches: [childMachine],
          ResultSelector: { [`${CHILD_OUTPUT_KEY}.$`]: '$[0]' },
          // Not ResultPath "$": the interpreter stores that under a key named "$".
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'ChildFailed' }],
          End: true,
        },
        ChildFailed: {
          Type: 'Pass',
          Parameters: { [CHILD_FAILED_KEY]: true, 'Error.$': '$.failure.Error', 'Cause.$': '$.failure.Cause' },
          End: true,
        },
      },
    };
    if (state.ItemProcessor) state.ItemProcessor = wrapped;
    else state.Iterator = wrapped;

    // After the map: the writer state, which also carries the map's Next/End and its Catch.
    definition.States[emulation.writerState] = {
      Type: 'Task',
      Resource: LOCAL_TASK_RESOURCE,
      // The whole state, and the execution's name to lay the results out under, as a map run would.
      Parameters: { 'execution_name.$': '$$.Execution.Name', 'state.$': '$' },
      ...(state.Next ? { Next: state.Next } : { End: true }),
      ...(state.Catch ? { Catch: state.Catch } : {}),
    };
    delete state.ResultWriter;
    delete state.ToleratedFailurePercentage;
    delete state.ToleratedFailureCount;
    delete state.End;
    state.ResultPath = `$.${RESULTS_KEY}`;
    state.Next = emulation.writerState;
    emulations.push(emulation);
  }
}

/** Returns a rewritten copy of the definition and what each inserted state must do. */
export function emulateDistributedMaps(definition: StateMachineDefinition): { definition: StateMachineDefinition; emulations: MapEmulation[] } {
  const copy = structuredClone(definition);
  const emulations: MapEmulation[] = [];
  rewriteScope(copy, emulations);
  return { definition: copy, emulations };
}

/** Sets `value` at a simple reference path ("$", "$.a.b", or null to discard), as ResultPath does. */
export function applyResultPath(input: Record<string, unknown>, resultPath: string | null | undefined, value: unknown): unknown {
  if (resultPath === null) return input;
  if (resultPath === undefined || resultPath === '$') return value;
  const keys = resultPath.replace(/^\$\./, '').split('.');
  const output = structuredClone(input);
  let cursor: Record<string, unknown> = output;
  for (const key of keys.slice(0, -1)) {
    if (typeof cursor[key] !== 'object' || cursor[key] === null) cursor[key] = {};
    cursor = cursor[key] as Record<string, unknown>;
  }
  cursor[keys[keys.length - 1]!] = value;
  return output;
}

export interface ChildOutcome {
  index: number;
  failed: boolean;
  output?: unknown;
  error?: { Error: string; Cause: string };
}

export function childOutcomes(results: unknown[]): ChildOutcome[] {
  return results.map((result, index) => {
    const r = result as Record<string, any>;
    return r?.[CHILD_FAILED_KEY]
      ? { index, failed: true, error: { Error: r.Error, Cause: r.Cause } }
      : { index, failed: false, output: r?.[CHILD_OUTPUT_KEY] };
  });
}

/** The Distributed Map rule: the run fails once failures pass either tolerance (both default to zero). */
export function exceedsTolerance(outcomes: ChildOutcome[], emulation: Pick<MapEmulation, 'toleratedFailurePercentage' | 'toleratedFailureCount'>): boolean {
  const failed = outcomes.filter((o) => o.failed).length;
  if (failed === 0) return false;
  const byCount = emulation.toleratedFailureCount !== undefined && failed <= emulation.toleratedFailureCount;
  const byPercentage =
    emulation.toleratedFailurePercentage !== undefined && (failed / outcomes.length) * 100 <= emulation.toleratedFailurePercentage;
  return !(byCount || byPercentage);
}
