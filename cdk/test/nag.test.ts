import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as cdk from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';

import { PoloAppStack } from '../lib/app-stack.js';
import { PoloDestinationStack } from '../lib/destination-stack.js';
import { environmentList, PoloEnvironment } from '../lib/environment.js';
import { PoloPipelineStack } from '../lib/pipeline-stack.js';
import { PoloStage } from '../lib/stage.js';

import { fakeAssets, manifest, roles } from './fixtures.js';

/** Every cdk-nag finding on `stack`, error or warning, as `path: rule`. */
function findings(stack: cdk.Stack): string[] {
  const annotations = Annotations.fromStack(stack);
  return [...annotations.findError('*', Match.anyValue()), ...annotations.findWarning('*', Match.anyValue())]
    .map((f) => `${f.id}: ${String(f.entry.data).split(':')[0]}`);
}

test('cdk-nag AwsSolutions finds nothing unaccepted in any of the three stacks, in every shape they take', () => {
  const app = new cdk.App();
  const prod = new PoloEnvironment('prod');
  const assetsDir = fakeAssets();
  const common = { assetsDir, manifest, fleetRoleArns: roles, reportTimezone: 'UTC' };
  const stacks = [
    // Cognito sign-in, Slack for reports and alarms, Cost Explorer role.
    new PoloAppStack(app, 'prod-PoloApp', { ...common, environment: prod, coreRoleArn: 'arn:aws:iam::222222222222:role/polo-cost-explorer' }),
    // An OIDC issuer of the company's own, no Slack.
    new PoloAppStack(app, 'dev-PoloApp', { ...common, environment: new PoloEnvironment('dev'), jwtIssuer: 'https://login.example.com', jwtAudience: ['polo'] }),
    new PoloPipelineStack(app, 'PoloPipeline', {
      repository: 'example/polo', branch: 'main',
      connectionArn: 'arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-0000-0000-000000000000',
      environments: environmentList('staging,prod'),
      stage: (environment) => new PoloStage(app, { ...common, environment }),
    }),
    new PoloDestinationStack(app, 'PoloDestination', { poloAccountId: '123456789012', environments: [prod], indexTable: 'marqo-indexes', costExplorer: true, manifest }),
  ];
  cdk.Aspects.of(app).add(new AwsSolutionsChecks());
  for (const stack of stacks) assert.deepEqual(findings(stack), [], stack.stackName);
  // The pipeline's stages are checked as the stacks they deploy.
  const staged = app.node.findAll().filter((c): c is cdk.Stack => cdk.Stack.isStack(c) && c.stackName.endsWith('PoloApp') && !stacks.includes(c));
  assert.equal(staged.length, 2, 'staging and prod stages');
  for (const stack of staged) assert.deepEqual(findings(stack), [], stack.stackName);
});

test('the rule pack still catches what Polo does not accept', () => {
  const app = new cdk.App();
  const stack = new PoloDestinationStack(app, 'PoloDestination', { poloAccountId: '123456789012', environments: [new PoloEnvironment('prod')], indexTable: 'marqo-indexes', costExplorer: false, manifest });
  // A wildcard action is not among the accepted findings.
  new cdk.aws_iam.Policy(stack, 'TooBroad', {
    statements: [new cdk.aws_iam.PolicyStatement({ actions: ['s3:*'], resources: ['arn:aws:s3:::some-bucket'] })],
    roles: [stack.node.findChild('PoloRead') as cdk.aws_iam.Role],
  });
  cdk.Aspects.of(app).add(new AwsSolutionsChecks());
  assert.ok(findings(stack).some((f) => f.includes('TooBroad') && f.includes('AwsSolutions-IAM5')), findings(stack).join('\n'));
});
