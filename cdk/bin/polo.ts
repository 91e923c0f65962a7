import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as cdk from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

import { PoloAppStack } from '../lib/app-stack.js';
import { PoloDestinationStack } from '../lib/destination-stack.js';
import { environmentList, PoloEnvironment } from '../lib/environment.js';
import { PoloPipelineStack } from '../lib/pipeline-stack.js';
import { fleetRoleArns } from '../lib/fleet.js';
import { loadManifest } from '../lib/manifest.js';
import { PoloStage } from '../lib/stage.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const app = new cdk.App();
const ctx = (key: string, fallback?: string): string => {
  const value = app.node.tryGetContext(key) ?? fallback;
  if (value === undefined) throw new Error(`context ${key} is required (cdk ... -c ${key}=…)`);
  return String(value);
};

const optionalNumber = (key: string): number | undefined => {
  const value = app.node.tryGetContext(key);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`context ${key} must be a positive number, got ${value}`);
  return n;
};

// Slack webhook URLs are secrets: never context (cdk.json is committed, and context lands in
// the template). Refuse them loudly so an old command line does not deploy them.
for (const key of ['slackWebhookUrl', 'opsSlackWebhookUrl']) {
  if (app.node.tryGetContext(key) !== undefined) {
    throw new Error(`context ${key} is no longer read: put the URL in the stack's Slack webhook secret (docs/deploy.md, "Slack")`);
  }
}

const env = process.env.CDK_DEFAULT_ACCOUNT
  ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' }
  : undefined;
// `just deploy -e NAME` passes `-c env=NAME`.
const environment = new PoloEnvironment(ctx('env', 'dev'));
const manifest = loadManifest(resolve(here, '..', 'manifest.json'));
// Sign-in and addresses may differ per environment: `-c jwtIssuer.prod=…` (or in cdk.json)
// wins over `-c jwtIssuer=…` for prod, so staging and prod need not share an issuer or a
// client, and a staging token never opens prod.
const perEnvironment = (e: PoloEnvironment, key: string): string | undefined =>
  app.node.tryGetContext(`${key}.${e.name}`) ?? app.node.tryGetContext(key);
const appPropsFor = (e: PoloEnvironment) => ({
  env,
  assetsDir: resolve(here, '..', ctx('assetsDir', '../target/lambda')),
  manifest,
  fleetRoleArns: fleetRoleArns(readFileSync(resolve(root, 'config', 'polo.toml'), 'utf8')),
  logoutUrl: perEnvironment(e, 'logoutUrl'),
  reportTimezone: ctx('reportTimezone', 'UTC'),
  jwtIssuer: perEnvironment(e, 'jwtIssuer'),
  jwtAudience: perEnvironment(e, 'jwtAudience')?.split(','),
  coreRoleArn: app.node.tryGetContext('coreRoleArn'),
  oidcLogoutEndpoint: perEnvironment(e, 'oidcLogoutEndpoint'),
  authDomainPrefix: perEnvironment(e, 'authDomainPrefix'),
  extraOrigins: perEnvironment(e, 'extraOrigins')?.split(','),
  reserveConcurrency: app.node.tryGetContext('reservedConcurrency') === 'true',
  apiRateLimit: optionalNumber('apiRateLimit'),
  apiBurstLimit: optionalNumber('apiBurstLimit'),
  publicUrl: perEnvironment(e, 'publicUrl'),
});

new PoloAppStack(app, environment.stackName('PoloApp'), { ...appPropsFor(environment), environment });

// The pipeline deploys `pipelineEnvironments` (cdk.json: the pipeline's own synth reads it
// there too) in order.
new PoloPipelineStack(app, 'PoloPipeline', {
  env,
  repository: ctx('repository', 'example/polo'),
  branch: ctx('branch', 'main'),
  connectionArn: ctx('connectionArn', 'arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-0000-0000-000000000000'),
  environments: environmentList(ctx('pipelineEnvironments', 'staging,prod')),
  stage: (e) => new PoloStage(app, { ...appPropsFor(e), environment: e }),
});

// Each fleet account deploys this with `-c poloAccountId=…` (required: no default, so a
// fleet account never trusts a placeholder). Without it the stack is not part of the app.
// It trusts the sync of each of `poloEnvironments` (default: the `-e` environment).
const poloAccountId = app.node.tryGetContext('poloAccountId');
if (poloAccountId !== undefined) {
  new PoloDestinationStack(app, 'PoloDestination', {
    env,
    poloAccountId: String(poloAccountId),
    environments: environmentList(ctx('poloEnvironments', environment.name)),
    indexTable: ctx('indexTable', 'marqo-indexes'),
    costExplorer: ctx('costExplorer', 'false') === 'true',
    manifest,
  });
}

// cdk-nag's AwsSolutions rules on every stack: a finding not accepted (with its reason) in
// lib/nag.ts is an error, and `cdk synth` fails on it.
cdk.Aspects.of(app).add(new AwsSolutionsChecks());
