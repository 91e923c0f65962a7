import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as cdk from 'aws-cdk-lib';

import { PoloAppStack } from '../lib/app-stack.js';
import { PoloDestinationStack } from '../lib/destination-stack.js';
import { PoloPipelineStack } from '../lib/pipeline-stack.js';
import { fleetRoleArns, loadRoutes } from '../lib/routes.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const app = new cdk.App();
const ctx = (key: string, fallback?: string): string => {
  const value = app.node.tryGetContext(key) ?? fallback;
  if (value === undefined) throw new Error(`context ${key} is required (cdk ... -c ${key}=…)`);
  return String(value);
};

const env = process.env.CDK_DEFAULT_ACCOUNT
  ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' }
  : undefined;
const appProps = {
  assetsDir: resolve(here, '..', ctx('assetsDir', '../target/lambda')),
  routes: loadRoutes(resolve(here, '..', 'routes.json')),
  fleetRoleArns: fleetRoleArns(readFileSync(resolve(root, 'config', 'polo.toml'), 'utf8')),
  logoutUrl: app.node.tryGetContext('logoutUrl'),
  reportTimezone: ctx('reportTimezone', 'UTC'),
  jwtIssuer: app.node.tryGetContext('jwtIssuer'),
  jwtAudience: app.node.tryGetContext('jwtAudience')?.split(','),
  coreRoleArn: app.node.tryGetContext('coreRoleArn'),
  oidcLogoutEndpoint: app.node.tryGetContext('oidcLogoutEndpoint'),
  authDomainPrefix: app.node.tryGetContext('authDomainPrefix'),
  extraOrigins: app.node.tryGetContext('extraOrigins')?.split(','),
  reserveConcurrency: app.node.tryGetContext('reservedConcurrency') !== 'false',
};

new PoloAppStack(app, 'PoloApp', { ...appProps, env });

class PoloStage extends cdk.Stage {
  constructor(scope: cdk.App | cdk.Stack, id: string) {
    super(scope, id, { env });
    new PoloAppStack(this, 'PoloApp', { ...appProps, namePrefix: 'polo-prod' });
  }
}
new PoloPipelineStack(app, 'PoloPipeline', {
  env,
  repository: ctx('repository', 'example/polo'),
  branch: ctx('branch', 'main'),
  connectionArn: ctx('connectionArn', 'arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-0000-0000-000000000000'),
  stage: (scope) => new PoloStage(scope as cdk.Stack, 'Prod'),
});

// Each fleet account deploys this with `-c poloAccountId=…` (required: no default, so a
// fleet account never trusts a placeholder). Without it the stack is not part of the app.
const poloAccountId = app.node.tryGetContext('poloAccountId');
if (poloAccountId !== undefined) {
  new PoloDestinationStack(app, 'PoloDestination', {
    env,
    poloAccountId: String(poloAccountId),
    indexTable: ctx('indexTable', 'marqo-indexes'),
    rolePrefix: ctx('poloRolePrefix', 'polo'),
    costExplorer: ctx('costExplorer', 'false') === 'true',
  });
}
