/**
 * The CDK app: `npx cdk deploy`. Context: llmSmallModel, llmLargeModel, maxConcurrency, authDomainPrefix, oidcIssuer/oidcAudience/oidcTokenUrl/oidcJwksUrl;
 * the provider limits searchRequestsPerMinute, llmRequestsPerMinute, llmInputTokensPerMinute, llmOutputTokensPerMinute
 * (read by lib/agents.ts).
 */
import { App } from 'aws-cdk-lib';
import { DossierStack } from '../lib/dossier-stack';

const app = new App();
const maxConcurrency = app.node.tryGetContext('maxConcurrency');
new DossierStack(app, 'Dossier', {
  // -c llmSmallModel=claude-haiku-4-5 -c llmLargeModel=claude-sonnet-4-6: the models the tiers choose from.
  llmSmallModel: app.node.tryGetContext('llmSmallModel'),
  llmLargeModel: app.node.tryGetContext('llmLargeModel'),
  maxConcurrency: maxConcurrency === undefined ? undefined : Number(maxConcurrency),
  // -c oidcIssuer=https://issuer -c oidcAudience=… -c oidcTokenUrl=https://…/token: any OIDC issuer instead of Cognito.
  externalIssuer: app.node.tryGetContext('oidcIssuer')
    ? {
        issuerUrl: app.node.tryGetContext('oidcIssuer'),
        audience: app.node.tryGetContext('oidcAudience'),
        tokenUrl: app.node.tryGetContext('oidcTokenUrl'),
        jwksUrl: app.node.tryGetContext('oidcJwksUrl'),
      }
    : undefined,
  authDomainPrefix: app.node.tryGetContext('authDomainPrefix'),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
