/**
 * Least-privilege grants, in one place: each function gets the DynamoDB actions its handler sends and the S3 actions
 * on the key patterns it reads or writes (lambdas/core/job-layout.ts), nothing broader. A grant whose resource needs
 * a wildcard (an S3 key named at run time, say) acknowledges cdk-nag's finding for exactly that resource, with the
 * reason, so test/infra/cdk-nag.test.ts keeps failing on any wildcard nobody explained.
 */
import { Arn, ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';

/** Why the S3 grants need wildcards: the reason their acknowledgements give. */
export const KEYS_NAMED_AT_RUN_TIME =
  'Object keys carry the job id and company index, named at run time; the pattern (jobKeyPatterns in lambdas/core/job-layout.ts) limits the grant to one kind of object';

/** The item-level DynamoDB actions Dossier's stores send (lambdas/store/*.ts). Scan is never among them. */
export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query' | 'BatchGetItem';

/**
 * Allows `actions` on the table. `queryIndexes` names the indexes the grantee queries: only those get `dynamodb:Query`,
 * by name, instead of the `index/*` that the table's own grant methods add.
 */
export function grantTable(grantee: IGrantable, table: ITable, actions: TableAction[], options: { queryIndexes?: string[] } = {}): void {
  Grant.addToPrincipal({ grantee, actions: actions.map((a) => `dynamodb:${a}`), resourceArns: [table.tableArn] });
  const indexes = options.queryIndexes ?? [];
  if (indexes.length) {
    Grant.addToPrincipal({ grantee, actions: ['dynamodb:Query'], resourceArns: indexes.map((index) => `${table.tableArn}/index/${index}`) });
  }
}

/**
 * Allows `actions` on the objects whose keys match `keys` (IAM patterns, e.g. `jobs/*\/results/*`). `why` says why the
 * patterns need their wildcards; it acknowledges the finding of each one.
 */
export function grantObjects(
  grantee: IGrantable,
  bucket: IBucket,
  actions: ('s3:GetObject' | 's3:PutObject' | 's3:AbortMultipartUpload')[],
  keys: string[],
  why = KEYS_NAMED_AT_RUN_TIME,
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions, resources: keys.map((key) => bucket.arnForObjects(key)) }));
  for (const key of keys.filter((k) => k.includes('*'))) acknowledgeWildcard(principalScope(grantee), bucket.arnForObjects(key), why);
}

/** Allows listing the keys under prefixes matching `prefix` (ListObjectsV2 with that Prefix), and no others. */
export function grantListing(grantee: IGrantable, bucket: IBucket, prefix: string): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn], conditions: { StringLike: { 's3:prefix': prefix } } }),
  );
}

/**
 * Allows stopping the machine's executions. Executions are named after their job ids, so the resource is every
 * execution of this machine (`execution:<name>:*`).
 */
export function grantStopExecutions(grantee: IGrantable, machine: IStateMachine): void {
  const executions = executionsArn(machine);
  grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['states:StopExecution'], resources: [executions] }));
  acknowledgeWildcard(principalScope(grantee), executions, "Executions are named after job ids, known only at run time; the resource is this state machine's executions only");
}

/**
 * The ARN pattern of a state machine's executions, as CDK's own execution grants write it: `execution:<name>:*`, or
 * with `/*:*` the child executions of its Distributed Map runs.
 */
export function executionsArn(machine: IStateMachine, pattern: ':*' | '/*:*' = ':*'): string {
  const name = Arn.split(machine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName!;
  return Stack.of(machine).formatArn({ service: 'states', resource: 'execution', resourceName: `${name}${pattern}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 finding for one wildcard resource of a policy under `scope`, with the reason
 * it is needed. The finding is named after the resource as it resolves in the template, so this is the resource the
 * grant used, not a pattern that could hide another.
 */
export function acknowledgeWildcard(scope: IConstruct, resource: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flattenReference(Stack.of(scope).resolve(resource))}]`, reason });
}

/** Where a grant's acknowledgements go: the principal (its role, whose policies are its children) when it is a construct. */
export function principalScope(grantee: IGrantable): IConstruct {
  const principal = grantee.grantPrincipal as unknown;
  if (Construct.isConstruct(principal)) return principal;
  if (Construct.isConstruct(grantee)) return grantee;
  throw new Error('grants: the grantee is not a construct, so nothing can carry its acknowledgements');
}

/**
 * A resolved CloudFormation value the way cdk-nag writes it in a finding: `<Id.Arn>` for a GetAtt, `<Id>` for a Ref,
 * joins concatenated, anything else as its JSON.
 */
function flattenReference(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value && typeof value === 'object') {
    const node = value as Record<string, any>;
    if (node['Fn::Join']) {
      const [delimiter, parts] = node['Fn::Join'] as [string, unknown[]];
      return parts.map(flattenReference).join(delimiter);
    }
    if (node['Fn::GetAtt']) {
      const [id, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${flattenReference(id)}.${flattenReference(attribute)}>`;
    }
    if (node.Ref) return `<${flattenReference(node.Ref)}>`;
  }
  return JSON.stringify(value);
}
