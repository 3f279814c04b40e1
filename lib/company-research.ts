/**
 * One company's research, defined once: research → extraction → reflection, looping on follow-up queries until
 * the record is complete or the iterations run out, then stored; an agent that keeps failing is recorded as a
 * failure. The coordinator runs it as its Distributed Map's item processor, and the company machine runs it on
 * its own (EXPRESS, started synchronously for a single company).
 *
 * Its input is what `companyRunInput` (lambdas/core/job-layout.ts) builds; its output is the storage step's.
 */
import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  type Chain,
  Choice,
  Condition,
  Errors,
  JitterType,
  JsonPath,
  Pass,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { RUN_SETTING_KEYS } from '../lambdas/core/job-layout';
import type { Agents } from './agents';
import { LAMBDA_THROTTLED, LAMBDA_TIMED_OUT, LAMBDA_TRANSIENT_ERRORS } from './lambda-errors';

/** A state's parameters that pass every run setting on unchanged, read from `from` (lambdas/core/job-layout.ts). */
export const passRunSettings = (from = '$') => Object.fromEntries(RUN_SETTING_KEYS.map((key) => [`${key}.$`, `${from}.${key}`]));

/** Errors our handlers throw when a provider is rate-limited or down (see lambdas/providers/provider-error.ts). */
export const PROVIDER_THROTTLED = 'ProviderThrottled';
export const PROVIDER_UNAVAILABLE = 'ProviderUnavailable';

/**
 * Storage has no Catch: a storage step that keeps dying leaves its company unrecorded until the assembly records it
 * as failed. It is idempotent, so it is given more tries than an agent step before that happens.
 */
export const STORAGE_TRANSIENT_ATTEMPTS = 6;

export interface CompanyResearchStepsProps {
  agents: Pick<Agents, 'research' | 'extraction' | 'reflection' | 'storage'>;
}

/**
 * The states of one company's run, in their own scope so a second instance can build the same chain for another
 * state machine (a state belongs to exactly one graph). State names are the construct ids, the same in both.
 */
export class CompanyResearchSteps extends Construct {
  /** Starts at Research; ends at StoreResult or RecordFailure. */
  readonly chain: Chain;

  constructor(scope: Construct, id: string, props: CompanyResearchStepsProps) {
    super(scope, id);
    const { agents } = props;

    /** `transientAttempts`: how often a crashed or unreachable invocation is tried again (storage tries hardest). */
    const agentTask = (name: string, fn: IFunction, payload: Record<string, unknown>, resultPath: string, timeout: Duration, transientAttempts = 3) => {
      const task = new LambdaInvoke(this, name, {
        lambdaFunction: fn,
        payload: TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        resultPath,
        taskTimeout: Timeout.duration(timeout),
      });
      // Rate limits clear slowly: wait longer, spread the retries of many companies apart. A ProviderThrottled mostly
      // comes from the agents' own pacing when the shared limit stayed spent for as long as a task may wait: a batch
      // that asks for far more than the limit queues here, so it gets more attempts than an outage.
      task.addRetry({
        errors: [PROVIDER_THROTTLED, LAMBDA_THROTTLED],
        interval: Duration.seconds(5),
        backoffRate: 2,
        maxAttempts: 6,
        maxDelay: Duration.seconds(60),
        jitterStrategy: JitterType.FULL,
      });
      // Outages and slow calls: the task's own timeout, or the function's (Lambda reports Sandbox.Timedout).
      task.addRetry({
        errors: [PROVIDER_UNAVAILABLE, Errors.TIMEOUT, LAMBDA_TIMED_OUT],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 3,
        jitterStrategy: JitterType.FULL,
      });
      // A crashed runtime or a Lambda service hiccup says nothing about the company: run the step again. Every step is
      // safe to repeat (research rewrites the same raw-results keys, storage overwrites and counts idempotently), and
      // without this a crash would be caught below and record a company as failed that never failed.
      task.addRetry({
        errors: LAMBDA_TRANSIENT_ERRORS,
        interval: Duration.seconds(1),
        backoffRate: 2,
        maxAttempts: transientAttempts,
        maxDelay: Duration.seconds(30),
        jitterStrategy: JitterType.FULL,
      });
      return task;
    };

    const research = agentTask('Research', agents.research, {
      job_id: JsonPath.stringAt('$.job_id'),
      index: JsonPath.numberAt('$.index'),
      iteration: JsonPath.numberAt('$.iteration'),
      company_name: JsonPath.stringAt('$.company_name'),
      domain: JsonPath.stringAt('$.domain'),
      // What earlier rounds settled about which company this is, so a later round keeps to it.
      identity: JsonPath.objectAt('$.record.identity'),
      extraction_schema: JsonPath.objectAt('$.extraction_schema'),
      search_provider: JsonPath.stringAt('$.search_provider'),
      max_queries: JsonPath.numberAt('$.max_queries'),
      search_depth: JsonPath.stringAt('$.search_depth'),
      model: JsonPath.stringAt('$.notes_model'),
      read_site: JsonPath.stringAt('$.read_site'),
      follow_up_queries: JsonPath.listAt('$.follow_up_queries'),
      usage: JsonPath.objectAt('$.usage'),
    }, '$.research', Duration.seconds(130));

    // job_id and index ride along on every step for its log lines (chainStepSchema in lambdas/shared/task-handler.ts).
    const correlation = { job_id: JsonPath.stringAt('$.job_id'), index: JsonPath.numberAt('$.index') };
    const extraction = agentTask('Extract', agents.extraction, {
      ...correlation,
      company_name: JsonPath.stringAt('$.company_name'),
      extraction_schema: JsonPath.objectAt('$.extraction_schema'),
      research_notes: JsonPath.stringAt('$.research.research_notes'),
      sources: JsonPath.listAt('$.research.sources'),
      // The sources' texts stay in S3: extraction reads them to check every quoted passage.
      search_results_ref: JsonPath.objectAt('$.research.search_results_ref'),
      identity: JsonPath.objectAt('$.research.identity'),
      previous: JsonPath.objectAt('$.record'),
      model: JsonPath.stringAt('$.extraction_model'),
      usage: JsonPath.objectAt('$.research.usage'),
    }, '$.record', Duration.seconds(70));

    const reflection = agentTask('Reflect', agents.reflection, {
      ...correlation,
      company_name: JsonPath.stringAt('$.company_name'),
      extraction_schema: JsonPath.objectAt('$.extraction_schema'),
      extracted_data: JsonPath.objectAt('$.record.extracted_data'),
      field_sources: JsonPath.objectAt('$.record.field_sources'),
      confidence_score: JsonPath.numberAt('$.record.confidence_score'),
      evidence: JsonPath.objectAt('$.record.evidence'),
      field_confidence: JsonPath.objectAt('$.record.field_confidence'),
      conflicts: JsonPath.listAt('$.record.conflicts'),
      unverified_fields: JsonPath.listAt('$.record.unverified_fields'),
      identity: JsonPath.objectAt('$.record.identity'),
      previous_queries: JsonPath.listAt('$.research.research_queries'),
      max_follow_up_queries: JsonPath.numberAt('$.max_queries'),
      // Reflection may ask a model (when rules cannot tell whether two sources agree): its tokens join the total.
      usage: JsonPath.objectAt('$.record.usage'),
    }, '$.reflection', Duration.seconds(40));

    const storeFields = {
      job_id: JsonPath.stringAt('$.job_id'),
      index: JsonPath.numberAt('$.index'),
      company_name: JsonPath.stringAt('$.company_name'),
      domain: JsonPath.stringAt('$.domain'),
      iterations: JsonPath.numberAt('$.iteration'),
      extraction_schema: JsonPath.objectAt('$.extraction_schema'),
      record: JsonPath.objectAt('$.record'),
    };
    const storeCompleted = agentTask('StoreResult', agents.storage, {
      ...storeFields,
      outcome: 'completed',
      usage: JsonPath.objectAt('$.reflection.usage'),
      reflection: JsonPath.objectAt('$.reflection'),
    }, '$', Duration.seconds(40), STORAGE_TRANSIENT_ATTEMPTS);
    const storeFailed = agentTask('RecordFailure', agents.storage, {
      ...storeFields,
      outcome: 'failed',
      usage: JsonPath.objectAt('$.usage'),
      error: JsonPath.objectAt('$.error'),
    }, '$', Duration.seconds(40), STORAGE_TRANSIENT_ATTEMPTS);

    // The next round starts from the follow-up queries, with the record and the spend so far.
    const nextIteration = new Pass(this, 'NextIteration', {
      parameters: {
        'job_id.$': '$.job_id',
        'index.$': '$.index',
        'company_name.$': '$.company_name',
        'domain.$': '$.domain',
        ...passRunSettings(),
        'iteration.$': 'States.MathAdd($.iteration, 1)',
        'follow_up_queries.$': '$.reflection.follow_up_queries',
        'usage.$': '$.reflection.usage',
        'record.$': '$.record',
      },
    });

    const isDone = new Choice(this, 'RecordComplete?')
      .when(
        Condition.or(
          Condition.booleanEquals('$.reflection.is_complete', true),
          Condition.numberGreaterThanEqualsJsonPath('$.iteration', '$.max_iterations'),
        ),
        storeCompleted,
      )
      .otherwise(nextIteration);
    nextIteration.next(research);

    for (const task of [research, extraction, reflection]) {
      // A company that still fails after its retries is recorded with its reason; it never fails the batch.
      task.addCatch(storeFailed, { errors: [Errors.ALL], resultPath: '$.error' });
    }
    this.chain = research.next(extraction).next(reflection).next(isDone);
  }
}
