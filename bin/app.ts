/** The CDK app: `npx cdk deploy`. Context: llmModel, maxConcurrency. */
import { App } from 'aws-cdk-lib';
import { DossierStack } from '../lib/dossier-stack';

const app = new App();
const maxConcurrency = app.node.tryGetContext('maxConcurrency');
new DossierStack(app, 'Dossier', {
  llmModel: app.node.tryGetContext('llmModel'),
  maxConcurrency: maxConcurrency === undefined ? undefined : Number(maxConcurrency),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
