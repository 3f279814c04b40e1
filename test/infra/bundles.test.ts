/**
 * What `cdk deploy` would upload: every function bundled by NodejsFunction with the construct's settings
 * (ES module, arm64 target, AWS SDK left to the runtime). Each bundle must load and export its handler.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DossierStack } from '../../lib/dossier-stack';

let bundles: { entry: string; file: string }[];
let outdir: string;

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'dossier-synth-'));
  const context = JSON.parse(readFileSync('cdk.json', 'utf8')).context;
  const app = new App({ outdir, context });
  new DossierStack(app, 'Dossier');
  const assembly = app.synth();
  const template = assembly.getStackByName('Dossier').template;
  bundles = Object.values<any>(template.Resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['dossier:entry'])
    // The asset's hash names both the uploaded zip and the staged folder in the cloud assembly.
    .map((r) => ({
      entry: r.Metadata['dossier:entry'],
      file: path.join(outdir, `asset.${String(r.Properties.Code.S3Key).replace(/\.zip$/, '')}`, 'index.mjs'),
    }));
}, 120_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('function bundles', () => {
  it('exist for every handler', () => {
    expect(bundles.map((b) => path.basename(b.entry, '.ts')).sort()).toEqual(
      ['a2a-task-events', 'api-authorizer', 'assemble-results', 'cancel-job', 'coordinator-agent', 'extraction', 'job-results', 'job-status', 'list-jobs', 'redrive-job', 'reflection', 'research', 'research-single', 'store-result', 'submit-batch', 'webhook-secret'],
    );
  });

  it('load as ES modules and export a handler', async () => {
    for (const bundle of bundles) {
      const module = await import(pathToFileURL(bundle.file).href);
      expect(typeof module.handler, bundle.entry).toBe('function');
    }
  });

  it('leave the AWS SDK to the Lambda runtime', () => {
    // Every handler but the API's authorizer (a token check, no AWS service) touches an AWS service (the three
    // agents keep their A2A tasks in DynamoDB too): each imports the runtime's @aws-sdk/client-* and carries none of it.
    for (const bundle of bundles) {
      const code = readFileSync(bundle.file, 'utf8');
      const importsSdk = /import\s*\{[^}]*\}\s*from\s*"@aws-sdk\/client-/.test(code);
      expect(importsSdk, `${bundle.entry} imports @aws-sdk/client-* from the runtime`).toBe(!bundle.entry.endsWith('api-authorizer.ts'));
      // The source map names every file esbuild put in the bundle: no SDK package may be among them.
      const sourceMap = JSON.parse(readFileSync(`${bundle.file}.map`, 'utf8')) as { sources: string[] };
      const bundledSdk = sourceMap.sources.filter((source) => /node_modules\/@aws-sdk\//.test(source));
      expect(bundledSdk, `${bundle.entry} bundles no @aws-sdk/* (client-* included)`).toEqual([]);
    }
  });
});
