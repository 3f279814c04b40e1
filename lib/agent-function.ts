/** One place for the defaults every Dossier function shares: runtime, architecture, tracing, logs, bundling, its role. */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');

/** The metadata key under which each function records its handler file; the local runtime reads it. */
export const ENTRY_METADATA_KEY = 'dossier:entry';

export interface AgentFunctionProps {
  /** File name under lambdas/handlers, without extension. */
  handler: string;
  description: string;
  timeout: Duration;
  memorySize?: number;
  environment?: Record<string, string>;
}

export class AgentFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: AgentFunctionProps) {
    const entry = path.join('lambdas', 'handlers', `${props.handler}.ts`);
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role instead of AWSLambdaBasicExecutionRole (which may write to any log group): the function writes
    // only to its log group. Every other permission is granted by name where the function is wired up.
    const role = new Role(scope, `${id}ServiceRole`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry: path.join(PROJECT_ROOT, entry),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'dossier',
        POWERTOOLS_METRICS_NAMESPACE: 'Dossier',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        // Some dependencies still call require(); give the ES module bundle one.
        banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        externalModules: ['@aws-sdk/*'],
      },
    });
    (this.node.defaultChild as CfnFunction).addMetadata(ENTRY_METADATA_KEY, entry);
    // Active tracing grants xray:PutTraceSegments and PutTelemetryRecords, which take no resource but `*`.
    // test/infra/cdk-nag.test.ts checks that nothing else is granted on `*`.
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions',
    });
  }
}
