/**
 * cdk-nag's AwsSolutions findings Polo accepts, each with its reason. The rule pack runs on
 * every synth (bin/polo.ts) and in the CDK tests (test/nag.test.ts), which fail on any
 * finding not accepted here. Suppressions name the exact finding (`appliesTo`) wherever the
 * rule reports one, so a new wildcard of another shape is still caught.
 */
import * as cdk from 'aws-cdk-lib';
import { NagPackSuppression, NagSuppressions } from 'cdk-nag';
import { IConstruct } from 'constructs';

/** Wildcards inside resources Polo owns: the tables' indexes, the data bucket's prefixes. */
const OWN_RESOURCE_WILDCARDS: NagPackSuppression = {
  id: 'AwsSolutions-IAM5',
  appliesTo: [
    { regex: '/^Resource::<(Resources|Reports)[0-9A-F]+\\.Arn>\\/index\\/\\*$/g' },
    { regex: '/^Resource::<Data[0-9A-F]+\\.Arn>\\/(exports|sync)\\/\\*$/g' },
    { regex: '/^Resource::<fnreporter[0-9A-F]+\\.Arn>:\\*$/g' },
  ],
  reason:
    "Only inside Polo's own resources: the global secondary indexes of its two tables (reads by index), " +
    'the data bucket prefixes a function writes (exports/, sync/: one object per export, ' +
    'per account and region), and the versions of the reporter function the ' +
    'report schedules invoke.',
};

/** What X-Ray's write actions need. */
const XRAY: NagPackSuppression = {
  id: 'AwsSolutions-IAM5',
  appliesTo: ['Resource::*'],
  reason:
    'xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions ' +
    '(Service Authorization Reference); CDK adds them for active tracing.',
};

/** The application stack's accepted findings. */
export function suppressAppFindings(stack: cdk.Stack & { api: IConstruct; functions: Record<string, { role?: IConstruct }> }) {
  NagSuppressions.addStackSuppressions(stack, [OWN_RESOURCE_WILDCARDS]);
  for (const id of ['SlackWebhook', 'SlackOpsWebhook']) {
    const secret = stack.node.tryFindChild(id);
    if (secret) {
      NagSuppressions.addResourceSuppressions(secret, [{
        id: 'AwsSolutions-SMG4',
        reason:
          'A Slack incoming webhook URL is issued by Slack, not generated: no rotation function can make one. ' +
          'It is rotated by hand, by creating a new webhook in Slack and putting its URL in the secret ' +
          '(docs/deploy.md); functions read it again within 5 minutes.',
      }]);
    }
  }
  for (const fn of Object.values(stack.functions)) {
    if (fn.role) NagSuppressions.addResourceSuppressions(fn.role, [XRAY], true);
  }
  NagSuppressions.addResourceSuppressions(
    stack.api,
    [{
      id: 'AwsSolutions-APIG4',
      reason:
        'A browser carries a session cookie, not a bearer header, so no API Gateway authorizer can check it: ' +
        'every route function checks identity itself (cookie, bearer token or JWT claims) before reading ' +
        'data, and answers 401 or a sign-in redirect (docs/auth.md; tested per route). /auth/* and /static/* are public by design; ' +
        '$default reaches the dashboard, which answers unknown paths with its 404 page and checks identity like every route.',
    }],
    true,
  );
  const users = stack.node.tryFindChild('Users');
  if (users) {
    NagSuppressions.addResourceSuppressions(users, [
      {
        id: 'AwsSolutions-COG8',
        reason:
          'The Plus feature plan (threat protection) is billed per monthly active user; the pool has no self ' +
          'sign-up, only staff an administrator invites, with a 14-character password policy and TOTP offered.',
      },
      {
        id: 'AwsSolutions-COG2',
        reason:
          'MFA is OPTIONAL (TOTP, no SMS): CloudFormation has failed to turn MFA from OFF to ON on an existing pool ' +
          '(aws-cdk#21284), which would roll back the whole app stack of a deployed environment. docs/deploy.md ' +
          'says how to require it once users have enrolled (one console or CLI setting).',
      },
    ]);
  }
  const accessLogs = stack.node.tryFindChild('AccessLogs');
  if (accessLogs) {
    NagSuppressions.addResourceSuppressions(accessLogs, [{
      id: 'AwsSolutions-S1',
      reason: 'This is the access log bucket of the data bucket; logging its own access would log the logs.',
    }]);
  }
}

/** The pipeline stack's accepted findings: what CDK Pipelines generates. */
export function suppressPipelineFindings(stack: cdk.Stack) {
  NagSuppressions.addStackSuppressions(stack, [
    {
      id: 'AwsSolutions-IAM5',
      appliesTo: [
        { regex: '/^Action::s3:(GetBucket|GetObject|List|DeleteObject|Abort)\\*$/g' },
        { regex: '/^Action::kms:(GenerateDataKey|ReEncrypt)\\*$/g' },
        { regex: '/^Resource::<PipelineArtifactsBucket[0-9A-F]+\\.Arn>\\/\\*$/g' },
        { regex: '/^Resource::arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:report-group\\/.*$/g' },
        { regex: '/^Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:\\/aws\\/codebuild\\/.*$/g' },
        'Resource::arn:*:iam::<AWS::AccountId>:role/*',
        'Resource::*',
      ],
      reason:
        "CDK Pipelines' generated roles: object and key actions on the pipeline's own artifact bucket and key, " +
        'CodeBuild report groups and log groups named after its own projects, the self-mutation step assuming ' +
        "the cdk bootstrap roles it deploys with, and reading the bootstrap version parameter and CodeBuild's " +
        'own status (actions without resource-level permissions).',
    },
    {
      id: 'AwsSolutions-CB4',
      reason:
        'The build projects read and write only the artifact bucket, which is encrypted with the pipeline\'s ' +
        'KMS key (crossAccountKeys); CodeBuild encrypts its own build outputs at rest.',
    },
    {
      id: 'AwsSolutions-S1',
      reason:
        "The pipeline's artifact bucket holds build outputs only the pipeline's own roles read and write " +
        '(KMS-encrypted with its key); server access logs would add a bucket per pipeline that no one reads.',
    },
  ]);
}

/** The destination stack's accepted findings. */
export function suppressDestinationFindings(stack: cdk.Stack) {
  NagSuppressions.addStackSuppressions(stack, [{
    id: 'AwsSolutions-IAM5',
    appliesTo: [
      'Resource::*',
      { regex: '/^Resource::arn:<AWS::Partition>:dynamodb:\\*:<AWS::AccountId>:table\\/[A-Za-z0-9_.-]+$/g' },
    ],
    reason:
      'ec2:DescribeInstances, cloudtrail:LookupEvents, cloudwatch:GetMetricData, compute-optimizer:GetEC2InstanceRecommendations ' +
      'and ce:GetCostAndUsage support no resource-level permissions; ' +
      'the index registry table is named exactly, in any region of this account, because the fleet spans ' +
      'the regions polo.toml lists (they change without redeploying this stack).',
  }]);
}
