import { existsSync } from 'node:fs';
import { join } from 'node:path';

import * as cdk from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

import { acceptCdkDependsOn, PoloEnvironment } from './environment.js';
import { PoloMonitoring } from './monitoring/monitoring.js';
import { suppressAppFindings } from './nag.js';
import { Data, dataOf, FunctionSpec, Manifest, objectsOf, syncIntervalMinutes, TABLES } from './manifest.js';

export interface PoloAppStackProps extends cdk.StackProps {
  /** The environment this stack is: it names every physical resource (environment.ts). */
  environment: PoloEnvironment;
  /** Where `just zip` put `{function}/bootstrap.zip`. */
  assetsDir: string;
  /** Every function, what it needs and its routes (`cdk/manifest.json`): the stack makes
   *  exactly these, with exactly the grants, variables and schedules they declare. */
  manifest: Manifest;
  /** The roles the sync function may assume, one per fleet account. */
  fleetRoleArns: string[];
  /** Where the logout link points (default `/auth/logout`, which also signs out at the issuer). */
  logoutUrl?: string;
  reportTimezone: string;
  /** The dashboard's address for links in messages (a custom domain); default the API's URL. */
  publicUrl?: string;
  /** An existing OIDC issuer and its client id for the browser sign-in; else a Cognito pool is created. */
  jwtIssuer?: string;
  jwtAudience?: string[];
  /** A sign-out URL the issuer's discovery document does not name. */
  oidcLogoutEndpoint?: string;
  /** The Cognito hosted UI's domain prefix (globally unique per region); default `{env}-polo-{account}`. */
  authDomainPrefix?: string;
  /** Origins besides the API's own the sign-in may return to (a custom domain). */
  extraOrigins?: string[];
  /** Reserve one concurrent execution for each scheduled function (default true). Accounts whose
   *  Lambda concurrency quota is under 103 cannot (100 must stay unreserved); the sync's lease
   *  still keeps runs from overlapping there. */
  reserveConcurrency?: boolean;
  /** The Cost Explorer role in the core (payer) account. */
  coreRoleArn?: string;
  /** API stage throttling: steady requests per second and burst (default 50 and 100), so a
   *  flood of unauthenticated requests cannot take the account's Lambda concurrency. */
  apiRateLimit?: number;
  apiBurstLimit?: number;
}

/** Polo itself: functions, HTTP API, sign-in (Cognito hosted UI or a given issuer), tables, bucket, schedules. */
export class PoloAppStack extends cdk.Stack {
  readonly api: apigw.HttpApi;
  readonly functions: Record<string, lambda.Function> = {};
  readonly monitoring: PoloMonitoring;

  constructor(scope: Construct, id: string, props: PoloAppStackProps) {
    super(scope, id, props);
    // Log delivery by bucket policy, not the legacy log-delivery ACL (the log bucket then
    // enforces bucket-owner ownership, with ACLs off).
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const env = props.environment;
    acceptCdkDependsOn(this);

    // Every table: pk/sk strings, on demand, items expire on `ttl`, kept on stack deletion.
    const table = (id: string, tableName: string) =>
      new dynamodb.Table(this, id, {
        tableName,
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        timeToLiveAttribute: 'ttl',
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy: cdk.RemovalPolicy.RETAIN,
      });
    const resources = table('Resources', env.tableName('ResourceTable'));
    resources.addGlobalSecondaryIndex({
      indexName: 'by-kind',
      partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING },
    });
    resources.addGlobalSecondaryIndex({
      indexName: 'by-index',
      partitionKey: { name: 'gsi2pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi2sk', type: dynamodb.AttributeType.STRING },
    });
    // The changes of one UTC day, so reports Query their days instead of a Scan. A stack
    // update may add only one GSI to a table at a time: this is that one.
    resources.addGlobalSecondaryIndex({
      indexName: 'by-day',
      partitionKey: { name: 'gsi3pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'gsi3sk', type: dynamodb.AttributeType.STRING },
    });
    const reports = table('Reports', env.tableName('ReportTable'));
    // Browser sessions (the browser holds only a random secret; the table, its SHA-256 and
    // who it is), ended by logout, `polo sessions revoke` or their TTL.
    const sessions = table('Sessions', env.tableName('SessionTable'));
    // Who read what from the data bucket (CSV exports are fetched by presigned URL): its
    // server access logs, kept 90 days.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      bucketName: env.bucketName('polo-access-logs'),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: cdk.Duration.days(90) }],
    });
    const data = new s3.Bucket(this, 'Data', {
      bucketName: env.bucketName(),
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'data/',
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
      lifecycleRules: [
        // A snapshot and the sync documents are rewritten every 15 minutes: a noncurrent
        // version goes a day after it was replaced (S3's least), the three newest are kept
        // however old, not 30 days of them.
        {
          noncurrentVersionExpiration: cdk.Duration.days(1),
          noncurrentVersionsToRetain: 3,
          expiredObjectDeleteMarker: true,
        },
        // CSV exports too large for one Lambda answer, fetched by a 15-minute presigned URL.
        { prefix: 'exports/', expiration: cdk.Duration.days(1), noncurrentVersionExpiration: cdk.Duration.days(1) },
      ],
    });

    // The HTTP API first: the sign-in client's callback URL names it. No API Gateway
    // authorizer: a browser carries a session cookie, not a bearer header, so every route
    // function checks identity itself (cookie, bearer token, or claims) before reading data.
    this.api = new apigw.HttpApi(this, 'Api', { apiName: env.resourceName('api'), description: `Polo dashboard (${env.name})` });
    // One access log line per request, beside the functions' own.
    const apiLogs = new logs.LogGroup(this, 'api-logs', {
      logGroupName: `/aws/apigateway/${env.resourceName('api')}`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    const defaultStage = this.api.defaultStage?.node.defaultChild as apigw.CfnStage | undefined;
    if (defaultStage) defaultStage.defaultRouteSettings = {
      throttlingRateLimit: props.apiRateLimit ?? 50,
      throttlingBurstLimit: props.apiBurstLimit ?? 100,
    };
    if (defaultStage) defaultStage.accessLogSettings = {
      destinationArn: apiLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId', ip: '$context.identity.sourceIp', requestTime: '$context.requestTime',
        method: '$context.httpMethod', path: '$context.path', status: '$context.status',
        responseLength: '$context.responseLength', latency: '$context.responseLatency',
        integrationError: '$context.integrationErrorMessage',
      }),
    };
    // Where the sign-in may return to: the API's own URL, the public address the functions
    // build the callback from (PUBLIC_URL), and any other origin given.
    const origins = [...new Set([this.api.apiEndpoint, ...(props.publicUrl ? [props.publicUrl.replace(/\/+$/, '')] : []), ...(props.extraOrigins ?? [])])];

    // Identity: the issuer given as context, or a Cognito pool with its hosted UI.
    let issuer = props.jwtIssuer;
    let clientId = props.jwtAudience?.[0];
    let logoutEndpoint = props.oidcLogoutEndpoint;
    if (!issuer) {
      const pool = new cognito.UserPool(this, 'Users', {
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        // Staff sign in to see every account's fleet and costs: a strong password, and a
        // one-time code from an authenticator app offered to everyone (lib/nag.ts says why
        // it is not required by the stack).
        mfa: cognito.Mfa.OPTIONAL,
        mfaSecondFactor: { otp: true, sms: false },
        passwordPolicy: { minLength: 14, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true },
        accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
        removalPolicy: cdk.RemovalPolicy.RETAIN,
      });
      const domain = pool.addDomain('SignIn', {
        cognitoDomain: { domainPrefix: props.authDomainPrefix ?? `${env.resourceName(this.account)}` },
      });
      const client = pool.addClient('Dashboard', {
        generateSecret: false,
        authFlows: {},
        preventUserExistenceErrors: true,
        supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
        oAuth: {
          flows: { authorizationCodeGrant: true },
          scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
          callbackUrls: origins.map((o) => `${o}/auth/callback`),
          logoutUrls: origins.map((o) => `${o}/auth/logout`),
        },
        // A working day for scripts' bearer tokens; browsers hold Polo's own sessions.
        idTokenValidity: cdk.Duration.hours(8),
        accessTokenValidity: cdk.Duration.hours(8),
      });
      issuer = `https://cognito-idp.${this.region}.amazonaws.com/${pool.userPoolId}`;
      clientId = client.userPoolClientId;
      logoutEndpoint = `${domain.baseUrl()}/logout`;
      new cdk.CfnOutput(this, 'UserPoolId', { value: pool.userPoolId });
      new cdk.CfnOutput(this, 'SignInUrl', { value: domain.baseUrl() });
    }
    if (!clientId) throw new Error('jwtIssuer needs jwtAudience (the client id browsers sign in with)');

    const functions = props.manifest.functions;
    const syncInterval = syncIntervalMinutes(props.manifest);
    // Slack's webhook URLs are secrets: they live in Secrets Manager, never in context, the
    // template or a function's environment. The stack creates each secret with a generated
    // placeholder (which Polo reads as "not set yet"); docs/deploy.md says how to put the
    // URL and rotate it. Functions get the ARN and GetSecretValue on it only.
    const slackSecret = (id: string, purpose: string, what: string) =>
      // Never give it a value or generator settings here: CloudFormation would then generate
      // a new value on the next deploy and overwrite the one someone put. Kept when the stack
      // goes, so a stack re-created within the deletion window does not fail on its name.
      new secretsmanager.Secret(this, id, {
        removalPolicy: cdk.RemovalPolicy.RETAIN,
        secretName: env.resourceName(purpose),
        description: `Polo (${env.name}): ${what}; put it with aws secretsmanager put-secret-value (docs/deploy.md)`,
      });
    const slackSecrets: Record<'reports' | 'ops', secretsmanager.Secret> = {
      reports: slackSecret('SlackWebhook', 'slack-webhook', 'the Slack incoming webhook URL for reports and the Cop'),
      ops: slackSecret('SlackOpsWebhook', 'slack-ops-webhook', "the Slack incoming webhook URL for Polo's own alarms"),
    };
    // The Slack app (issue 31): its bot token posts digests with buttons and updates them;
    // its signing secret verifies the button presses the dashboard answers.
    const slackApp = {
      botToken: slackSecret('SlackBotToken', 'slack-bot-token', "the Slack app's bot token (xoxb-…)"),
      signingSecret: slackSecret('SlackSigningSecret', 'slack-signing-secret', "the Slack app's signing secret"),
    };
    const slackAppSecrets = (f: FunctionSpec): secretsmanager.Secret[] =>
      f.slack_app === 'interactions' ? [slackApp.botToken, slackApp.signingSecret] : f.slack_app === 'bot' ? [slackApp.botToken] : [];
    // What each function reads from its environment, by what it declares.
    // The dashboard's address: the sign-in's callback, the return from the issuer's logout,
    // and links in Slack messages are made from it, never from a request's Host.
    const publicUrl = props.publicUrl ?? this.api.apiEndpoint;
    const forRoutes: Record<string, string> = {
      // REST (payload 1.0) events carry the stage in the path; routes do not.
      AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH: 'true',
      LOGOUT_URL: props.logoutUrl ?? '/auth/logout',
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: clientId,
      PUBLIC_URL: publicUrl,
      ...(logoutEndpoint ? { OIDC_LOGOUT_ENDPOINT: logoutEndpoint } : {}),
    };
    // polo_aws::AwsEnv and polo_core::config::Config::from_lookup: every function with data.
    const forData: Record<string, string> = {
      DYNAMODB_TABLE_NAME: resources.tableName,
      DYNAMODB_REPORT_TABLE_NAME: reports.tableName,
      DATA_BUCKET_NAME: data.bucketName,
      SYNC_INTERVAL_MINUTES: String(syncInterval),
      REPORT_TIMEZONE: props.reportTimezone,
    };
    const environmentOf = (f: FunctionSpec): Record<string, string> => ({
      ENV: env.name,
      POWERTOOLS_SERVICE_NAME: `polo-${f.name}`,
      ...(f.kind === 'ops' ? {} : { POWERTOOLS_METRICS_NAMESPACE: env.metricsNamespace() }),
      ...(f.kind === 'route' ? forRoutes : {}),
      ...(dataOf(f).length > 0 ? forData : {}),
      ...(dataOf(f).includes('session-table') ? { DYNAMODB_SESSION_TABLE_NAME: sessions.tableName } : {}),
      ...(f.assumes.includes('core-role') && props.coreRoleArn ? { CORE_ROLE_ARN: props.coreRoleArn } : {}),
      // Links in Slack messages point at the dashboard.
      ...(f.slack === 'reports' ? { PUBLIC_URL: publicUrl } : {}),
      ...(f.slack ? { SLACK_WEBHOOK_SECRET_ARN: slackSecrets[f.slack].secretArn } : {}),
      ...(f.slack_app ? { SLACK_BOT_TOKEN_SECRET_ARN: slackApp.botToken.secretArn } : {}),
      ...(f.slack_app === 'interactions' ? { SLACK_SIGNING_SECRET_ARN: slackApp.signingSecret.secretArn } : {}),
    });

    const make = (f: FunctionSpec) => {
      const zip = join(props.assetsDir, f.name, 'bootstrap.zip');
      if (!existsSync(zip)) {
        throw new Error(`${zip} is missing: run \`just zip\` first`);
      }
      const functionName = env.resourceName(f.name);
      const logGroup = new logs.LogGroup(this, `${f.name}-logs`, {
        logGroupName: `/aws/lambda/${functionName}`,
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: cdk.RemovalPolicy.DESTROY,
      });
      // Each function writes its own log group and nothing else's (no AWSLambdaBasicExecutionRole:
      // that one may write every log group of the account). Functions that assume roles in
      // other accounts get a role with a known name, so those accounts can trust exactly it
      // (destination-stack.ts), not the whole Polo account.
      const role = f.assumes.length > 0
        ? new iam.Role(this, `${f.name}-role`, { roleName: env.resourceName(f.name), assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') })
        : new iam.Role(this, `${f.name}-service-role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
      // A job runs one at a time: reserved concurrency 1, and no retry that could overlap the
      // next scheduled run (a sync run also takes a lease; the reporter marks a report sent
      // only once, conditionally). Accounts whose Lambda concurrency quota is small opt out.
      const oneAtATime = f.kind === 'job' && props.reserveConcurrency === true ? { reservedConcurrentExecutions: 1 } : {};
      const fn = new lambda.Function(this, `fn-${f.name}`, {
        functionName,
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: lambda.Architecture.X86_64,
        handler: 'bootstrap',
        code: lambda.Code.fromAsset(zip),
        memorySize: f.memory_mb,
        timeout: cdk.Duration.seconds(f.timeout_seconds),
        logGroup,
        // X-Ray: Lambda's segment per invocation; the function adds a subsegment per AWS call.
        tracing: lambda.Tracing.ACTIVE,
        environment: environmentOf(f),
        description: `Polo ${f.name} (${env.name})`,
        role,
        ...oneAtATime,
      });
      if (f.kind === 'job') fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: cdk.Duration.minutes(syncInterval) });
      this.functions[f.name] = fn;
      return fn;
    };
    for (const f of functions) make(f);

    // Least privilege, derived from what each function declares, with exact actions: no
    // wildcard action on data. TransactWriteItems needs the actions of its parts (puts).
    const readTable = ['dynamodb:GetItem', 'dynamodb:Query'];
    const writeTable = ['dynamodb:PutItem', 'dynamodb:UpdateItem'];
    const tableOf = (d: Data) => (d === 'resource-table' ? resources : d === 'session-table' ? sessions : reports);
    for (const f of functions) {
      const fn = this.functions[f.name];
      if (!fn) continue;
      const allow = (actions: string[], resourceArns: string[]) =>
        fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: resourceArns }));
      // Objects with the same actions share one statement.
      const objectGrants = new Map<string, string[]>();
      for (const d of dataOf(f)) {
        // A session is read by its key only: no function may Query (list) every session.
        const reads = d === 'session-table' ? ['dynamodb:GetItem'] : readTable;
        const actions = TABLES.includes(d)
          ? [
            ...(f.reads.includes(d) ? reads : []),
            ...(f.writes.includes(d) ? writeTable : []),
            ...(f.batch_writes.includes(d) ? ['dynamodb:BatchWriteItem'] : []),
          ]
          : [...(f.reads.includes(d) ? ['s3:GetObject'] : []), ...(f.writes.includes(d) ? ['s3:PutObject'] : [])];
        if (TABLES.includes(d)) {
          // The session table has no index to grant.
          const indexes = d === 'session-table' ? [] : [`${tableOf(d).tableArn}/index/*`];
          if (actions.length > 0) allow(actions, [tableOf(d).tableArn, ...indexes]);
        } else {
          const key = actions.join(',');
          objectGrants.set(key, [...(objectGrants.get(key) ?? []), ...objectsOf(d).map((o) => data.arnForObjects(o))]);
        }
      }
      for (const [actions, arns] of objectGrants) allow(actions.split(','), arns);
      // s3:ListBucket makes a missing key answer 404 (NoSuchKey) rather than 403, so a fresh
      // bucket reads as "no snapshot yet" instead of failing.
      if (f.reads.some((d) => !TABLES.includes(d))) allow(['s3:ListBucket'], [data.bucketArn]);
      if (f.assumes.includes('fleet-roles')) allow(['sts:AssumeRole'], props.fleetRoleArns);
      if (f.assumes.includes('core-role') && props.coreRoleArn) allow(['sts:AssumeRole'], [props.coreRoleArn]);
      if (f.slack) allow(['secretsmanager:GetSecretValue'], [slackSecrets[f.slack].secretArn]);
      for (const secret of slackAppSecrets(f)) allow(['secretsmanager:GetSecretValue'], [secret.secretArn]);
    }

    const integrations: Record<string, HttpLambdaIntegration> = {};
    for (const f of functions) {
      for (const route of f.routes) {
        integrations[f.name] ??= new HttpLambdaIntegration(`${f.name}-integration`, this.functions[f.name]);
        this.api.addRoutes({
          path: route.path,
          methods: [route.method as apigw.HttpMethod],
          integration: integrations[f.name],
        });
      }
    }
    // Unknown paths and HEAD get Polo's answers (its 404 page, in the format asked for; HEAD
    // as GET without a body), not API Gateway's bare 404: `$default` goes to whichever
    // function serves `/`.
    const home = functions.find((f) => f.routes.some((r) => r.path === '/'));
    if (home) {
      new apigw.HttpRoute(this.api, 'default-route', {
        httpApi: this.api,
        routeKey: apigw.HttpRouteKey.DEFAULT,
        integration: integrations[home.name],
      });
    }

    // Schedules: UTC ones as EventBridge rules; those in the report time zone with
    // EventBridge Scheduler, which keeps the zone's DST. No retry: the next run comes.
    for (const f of functions) {
      const fn = this.functions[f.name];
      const zoned = f.schedules.filter((s) => s.in_report_zone);
      for (const s of f.schedules.filter((s) => !s.in_report_zone)) {
        new events.Rule(this, `${s.name}-schedule`, {
          ruleName: env.resourceName(s.name),
          schedule: events.Schedule.expression(s.expression),
          targets: [new targets.LambdaFunction(fn, {
            retryAttempts: 0,
            ...(s.input === undefined ? {} : { event: events.RuleTargetInput.fromObject(s.input) }),
          })],
        });
      }
      if (zoned.length === 0) continue;
      // Only schedules of this account may use the role (the confused-deputy guard AWS
      // documents for Scheduler's execution role).
      const schedulerRole = new iam.Role(this, `${f.name}-scheduler-role`, {
        assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
        }),
      });
      fn.grantInvoke(schedulerRole);
      for (const s of zoned) {
        new scheduler.CfnSchedule(this, `${f.name}-${s.name}-schedule`, {
          name: env.resourceName(s.name),
          scheduleExpression: s.expression,
          scheduleExpressionTimezone: props.reportTimezone,
          flexibleTimeWindow: { mode: 'OFF' },
          target: {
            arn: fn.functionArn,
            roleArn: schedulerRole.roleArn,
            ...(s.input === undefined ? {} : { input: JSON.stringify(s.input) }),
            retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 15 * 60 },
          },
        });
      }
    }

    // What runs when the sync writes a new snapshot or new costs (the Cop): right after each
    // sync, and again when its cost refresh lands. The
    // bucket's S3 events reach EventBridge natively (CloudFormation's own property, not the
    // construct's option, which deploys a notification-handler function).
    (data.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    for (const f of functions.filter((f) => f.subscribes === 'data-written')) {
      new events.Rule(this, `${f.name}-on-snapshot`, {
        ruleName: env.resourceName(`${f.name}-on-snapshot`),
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: { bucket: { name: [data.bucketName] }, object: { key: ['snapshot.json', 'costs.json'] } },
        },
        targets: [new targets.LambdaFunction(this.functions[f.name], { retryAttempts: 0 })],
      });
    }

    this.monitoring = new PoloMonitoring(this, 'Monitoring', {
      environment: env,
      functions: this.functions,
      routeFunctions: functions.filter((f) => f.kind === 'route').map((f) => f.name),
      scheduledFunctions: functions.filter((f) => f.kind === 'job').map((f) => f.name),
      outboxFunctions: functions.filter((f) => f.slack === 'reports').map((f) => f.name),
      syncIntervalMinutes: syncInterval,
    });
    // Polo's own alarms go to Slack through the forwarder (once its secret holds a webhook).
    for (const f of functions.filter((f) => f.subscribes === 'alarm-topic' && this.functions[f.name])) {
      this.monitoring.topic.addSubscription(new subscriptions.LambdaSubscription(this.functions[f.name]));
    }
    suppressAppFindings(this);

    new cdk.CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new cdk.CfnOutput(this, 'HealthDashboard', { value: this.monitoring.dashboard.dashboardName });
    new cdk.CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new cdk.CfnOutput(this, 'DataBucket', { value: data.bucketName });
    new cdk.CfnOutput(this, 'ResourceTable', { value: resources.tableName });
    new cdk.CfnOutput(this, 'ReportTable', { value: reports.tableName });
    new cdk.CfnOutput(this, 'SessionTable', { value: sessions.tableName });
    new cdk.CfnOutput(this, 'SlackWebhookSecret', { value: slackSecrets.reports.secretName });
    new cdk.CfnOutput(this, 'SlackOpsWebhookSecret', { value: slackSecrets.ops.secretName });
    new cdk.CfnOutput(this, 'SlackBotTokenSecretName', { value: slackApp.botToken.secretName });
    new cdk.CfnOutput(this, 'SlackSigningSecretName', { value: slackApp.signingSecret.secretName });
    new cdk.CfnOutput(this, 'Environment', { value: env.name });
  }
}
