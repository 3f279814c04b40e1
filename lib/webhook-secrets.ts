/** Who may make and read the clients' webhook signing secrets: only the secrets under Dossier's prefix. */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { WEBHOOK_SECRET_PREFIX } from '../lambdas/core/webhook-signature';
import { acknowledgeWildcard, principalScope } from './grants';

export function grantWebhookSecrets(grantee: IGrantable, scope: Construct): void {
  const secrets = Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${WEBHOOK_SECRET_PREFIX}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue', 'secretsmanager:CreateSecret'], resources: [secrets] }));
  acknowledgeWildcard(
    principalScope(grantee),
    secrets,
    'One secret per client, created on first use under the dossier/webhooks/ prefix; Secrets Manager also ends every secret ARN with a random suffix',
  );
}
