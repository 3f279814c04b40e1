/**
 * The names under which a Lambda invocation that went wrong outside our code reaches a LambdaInvoke task's Retry and
 * Catch: one list, used by the state machines' retry policies and by the local runtime that imitates them.
 */

/** Lambda itself failed to run the invocation: transient, and the function may not even have started. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

/** Lambda's concurrency (the account's or the function's reserved) is used up. */
export const LAMBDA_THROTTLED = 'Lambda.TooManyRequestsException';

/** The function ran past its own timeout. */
export const LAMBDA_TIMED_OUT = 'Sandbox.Timedout';

/**
 * A runtime that died mid-invocation (process exit, out of memory, a killed sandbox): the function's work may be half
 * done. Step Functions documents these as Lambda.Unknown; the errorType Lambda puts in the function error,
 * Runtime.ExitError, is what a task sees for a runtime that exited.
 */
export const RUNTIME_EXIT_ERROR = 'Runtime.ExitError';
export const LAMBDA_CRASH_ERRORS = ['Lambda.Unknown', RUNTIME_EXIT_ERROR, 'Runtime.Unknown'] as const;

/** What a task retries whatever it does: the invocation failed for reasons that say nothing about its input. */
export const LAMBDA_TRANSIENT_ERRORS = [...LAMBDA_SERVICE_ERRORS, ...LAMBDA_CRASH_ERRORS];
