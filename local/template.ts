/**
 * The CloudFormation template of the Dossier stack, synthesized in-process from the same CDK app that deploys,
 * and the resolution of its intrinsic functions to local names.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { DossierStack, type DossierStackProps } from '../lib/dossier-stack';
import { ENTRY_METADATA_KEY, PROJECT_ROOT } from '../lib/agent-function';
import { STATE_MACHINE_ROLE_METADATA_KEY, type StateMachineRole } from '../lib/workflow';

export type CfnTemplate = { Resources: Record<string, { Type: string; Properties?: any; Metadata?: Record<string, unknown> }> };

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

/**
 * Synthesizes without bundling the functions: locally the handlers run from source. `context` is what `-c name=value`
 * would add to cdk.json's (provider limits, for instance), so a local run gets the environment a deployment would;
 * `props` what bin/app.ts would pass from the context it reads itself (maxConcurrency).
 */
export function synthesizeTemplate(context: Record<string, unknown> = {}, props: Pick<DossierStackProps, 'maxConcurrency'> = {}): CfnTemplate {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({ context: { ...cdkJson.context, ...context, 'aws:cdk:bundling-stacks': [] }, outdir: undefined });
  const stack = new DossierStack(app, 'Dossier', { ...props, env: { account: LOCAL_ACCOUNT, region: LOCAL_REGION } });
  return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
}

export function resourcesOfType(template: CfnTemplate, type: string): [string, { Properties?: any; Metadata?: Record<string, unknown> }][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** Local names: what a physical name of each resource becomes on this machine. */
export function localName(logicalId: string): string {
  // S3 bucket names must be lowercase and at least 3 characters.
  return `dossier-${logicalId.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`;
}

export function functionArn(logicalId: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${localName(logicalId)}`;
}

export function stateMachineArn(logicalId: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${localName(logicalId)}`;
}

/** Resolves Ref, Fn::GetAtt, Fn::Join and Fn::Sub the way CloudFormation would, with local names. */
export function resolveIntrinsics(value: unknown, template: CfnTemplate): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, template));
  if (!value || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const arg = object[key];
    if (key === 'Ref') return resolveRef(arg as string, template);
    if (key === 'Fn::GetAtt') return resolveGetAtt(arg as [string, string], template);
    if (key === 'Fn::Join') {
      const [separator, parts] = arg as [string, unknown[]];
      return parts.map((p) => String(resolveIntrinsics(p, template))).join(separator);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, resolveIntrinsics(object[k], template)]));
}

function resolveRef(name: string, template: CfnTemplate): string {
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': LOCAL_REGION,
    'AWS::AccountId': LOCAL_ACCOUNT,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'Dossier',
  };
  if (pseudo[name]) return pseudo[name]!;
  const resource = template.Resources[name];
  if (!resource) throw new Error(`template: Ref to unknown resource ${name}`);
  if (resource.Type === 'AWS::StepFunctions::StateMachine') return stateMachineArn(name);
  if (resource.Type === 'AWS::SecretsManager::Secret') return `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:${localName(name)}`;
  return localName(name);
}

function resolveGetAtt([logicalId, attribute]: [string, string], template: CfnTemplate): string {
  const resource = template.Resources[logicalId];
  if (!resource) throw new Error(`template: GetAtt of unknown resource ${logicalId}`);
  if (attribute === 'Arn') {
    switch (resource.Type) {
      case 'AWS::Lambda::Function':
        return functionArn(logicalId);
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${localName(logicalId)}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${localName(logicalId)}`;
      case 'AWS::StepFunctions::StateMachine':
        return stateMachineArn(logicalId);
      default:
        return `arn:aws:local:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${localName(logicalId)}`;
    }
  }
  return `${localName(logicalId)}-${attribute.toLowerCase()}`;
}

export interface LocalFunction {
  logicalId: string;
  arn: string;
  /** The handler's source file, relative to the project root. */
  entry: string;
  environment: Record<string, string>;
  /** Its MemorySize (CloudFormation's default is 128): what it reports as memoryLimitInMB. */
  memoryMb: number;
}

/** Every Dossier function in the template, with its handler file and its resolved environment. */
export function localFunctions(template: CfnTemplate): LocalFunction[] {
  return resourcesOfType(template, 'AWS::Lambda::Function')
    .filter(([, r]) => typeof r.Metadata?.[ENTRY_METADATA_KEY] === 'string')
    .map(([logicalId, r]) => ({
      logicalId,
      arn: functionArn(logicalId),
      entry: r.Metadata![ENTRY_METADATA_KEY] as string,
      environment: resolveIntrinsics(r.Properties?.Environment?.Variables ?? {}, template) as Record<string, string>,
      memoryMb: Number(r.Properties?.MemorySize ?? 128),
    }));
}

export type StateMachineType = 'STANDARD' | 'EXPRESS';

export interface LocalStateMachine {
  logicalId: string;
  /** What Ref and Fn::GetAtt Arn of the machine resolve to, here and in every function's environment. */
  arn: string;
  type: StateMachineType;
  /** The role the CDK app recorded in the machine's metadata (lib/workflow.ts), if any. */
  role?: StateMachineRole;
  /** The Amazon States Language definition, as it would be deployed. */
  definition: Record<string, any>;
}

/** Every state machine of the template, with its type (CloudFormation's default is STANDARD) and definition. */
export function stateMachines(template: CfnTemplate): LocalStateMachine[] {
  return resourcesOfType(template, 'AWS::StepFunctions::StateMachine').map(([logicalId, resource]) => {
    const text = resolveIntrinsics(resource.Properties.DefinitionString, template) as string;
    const role = resource.Metadata?.[STATE_MACHINE_ROLE_METADATA_KEY] as StateMachineRole | undefined;
    return {
      logicalId,
      arn: stateMachineArn(logicalId),
      type: resource.Properties.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
      ...(role ? { role } : {}),
      definition: JSON.parse(text),
    };
  });
}

/** The one machine the CDK app marked with this role. */
export function stateMachineByRole(template: CfnTemplate, role: StateMachineRole): LocalStateMachine {
  const found = stateMachines(template).filter((m) => m.role === role);
  if (found.length !== 1) throw new Error(`template: expected one state machine with role ${role}, found ${found.length}`);
  return found[0]!;
}

/** The coordinator (STANDARD, one batch). */
export function coordinatorDefinition(template: CfnTemplate): LocalStateMachine {
  return stateMachineByRole(template, 'coordinator');
}

/** The company machine (EXPRESS, one company). */
export function companyMachineDefinition(template: CfnTemplate): LocalStateMachine {
  return stateMachineByRole(template, 'company');
}
