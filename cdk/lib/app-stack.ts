import { existsSync } from 'node:fs';
import { join } from 'node:path';

import * as cdk from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import { RouteSpec } from './routes.js';

/** The functions a route can name, and the scheduled ones. */
export const ROUTE_FUNCTIONS = ['dashboard', 'inventory', 'costs', 'reports', 'static'] as const;
export const SCHEDULED_FUNCTIONS = ['sync', 'reporter', 'cop'] as const;

export interface PoloAppStackProps extends cdk.StackProps {
  /** Where `just zip` put `{function}/bootstrap.zip`. */
  assetsDir: string;
  routes: RouteSpec[];
  /** The roles the sync function may assume, one per fleet account. */
  fleetRoleArns: string[];
  logoutUrl: string;
  reportTimezone: string;
  /** An existing OIDC issuer and audience for the JWT authorizer; else a Cognito pool is created. */
  jwtIssuer?: string;
  jwtAudience?: string[];
  /** The Cost Explorer role in the core (payer) account. */
  coreRoleArn?: string;
}

/** Polo itself: functions, HTTP API with a JWT authorizer, tables, bucket, schedules. */
export class PoloAppStack extends cdk.Stack {
  readonly api: apigw.HttpApi;
  readonly functions: Record<string, lambda.Function> = {};

  constructor(scope: Construct, id: string, props: PoloAppStackProps) {
    super(scope, id, props);

    // Both tables: pk/sk strings, on demand, items expire on `ttl`, kept on stack deletion.
    const table = (id: string) =>
      new dynamodb.Table(this, id, {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        timeToLiveAttribute: 'ttl',
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy: cdk.RemovalPolicy.RETAIN,
      });
    const resources = table('Resources');
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
    const reports = table('Reports');
    const data = new s3.Bucket(this, 'Data', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
      lifecycleRules: [{ noncurrentVersionExpiration: cdk.Duration.days(30) }],
    });

    const environment: Record<string, string> = {
      ENV: 'prod',
      // REST (payload 1.0) events carry the stage in the path; routes do not.
      AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH: 'true',
      DYNAMODB_TABLE_NAME: resources.tableName,
      DYNAMODB_REPORT_TABLE_NAME: reports.tableName,
      DATA_BUCKET_NAME: data.bucketName,
      POWERTOOLS_METRICS_NAMESPACE: 'Polo',
      LOGOUT_URL: props.logoutUrl,
      REPORT_TIMEZONE: props.reportTimezone,
      ...(props.coreRoleArn ? { CORE_ROLE_ARN: props.coreRoleArn } : {}),
    };

    const make = (name: string, memoryMb: number, timeout: cdk.Duration) => {
      const zip = join(props.assetsDir, name, 'bootstrap.zip');
      if (!existsSync(zip)) {
        throw new Error(`${zip} is missing: run \`just zip\` first`);
      }
      const logGroup = new logs.LogGroup(this, `${name}-logs`, {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: cdk.RemovalPolicy.DESTROY,
      });
      const fn = new lambda.Function(this, `fn-${name}`, {
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: lambda.Architecture.X86_64,
        handler: 'bootstrap',
        code: lambda.Code.fromAsset(zip),
        memorySize: memoryMb,
        timeout,
        logGroup,
        environment: { ...environment, POWERTOOLS_SERVICE_NAME: `polo-${name}` },
        description: `Polo ${name}`,
      });
      this.functions[name] = fn;
      return fn;
    };
    for (const name of ROUTE_FUNCTIONS) make(name, 256, cdk.Duration.seconds(10));
    make('sync', 512, cdk.Duration.minutes(5));
    make('reporter', 256, cdk.Duration.minutes(2));
    make('cop', 256, cdk.Duration.minutes(2));

    // Least privilege, with exact actions: no wildcard action on data.
    const allow = (fn: lambda.Function, actions: string[], resourceArns: string[]) =>
      fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: resourceArns }));
    const tableArns = (t: dynamodb.Table) => [t.tableArn, `${t.tableArn}/index/*`];
    const readTable = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'];
    const writeTable = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem'];
    for (const name of ['dashboard', 'inventory', 'costs', 'reports'] as const) {
      allow(this.functions[name], readTable, tableArns(resources));
      allow(this.functions[name], ['s3:GetObject'], [data.arnForObjects('snapshot.json'), data.arnForObjects('cache/ce/*')]);
    }
    allow(this.functions.reports, readTable, tableArns(reports));
    allow(this.functions.dashboard, readTable, tableArns(reports));
    allow(this.functions.sync, [...readTable, ...writeTable], tableArns(resources));
    allow(this.functions.sync, ['s3:GetObject', 's3:PutObject'], [data.arnForObjects('sync/*'), data.arnForObjects('snapshot.json')]);
    allow(this.functions.sync, ['sts:AssumeRole'], props.fleetRoleArns);
    for (const name of ['reporter', 'cop'] as const) {
      allow(this.functions[name], readTable, tableArns(resources));
      allow(this.functions[name], [...readTable, ...writeTable], tableArns(reports));
      allow(this.functions[name], ['s3:GetObject'], [data.arnForObjects('snapshot.json'), data.arnForObjects('cache/ce/*')]);
    }
    allow(this.functions.reporter, ['s3:PutObject'], [data.arnForObjects('cache/ce/*')]);
    if (props.coreRoleArn) {
      allow(this.functions.reporter, ['sts:AssumeRole'], [props.coreRoleArn]);
      allow(this.functions.costs, ['sts:AssumeRole'], [props.coreRoleArn]);
    }

    // Identity: a JWT authorizer over Cognito, or over the issuer given as context.
    let issuer = props.jwtIssuer;
    let audience = props.jwtAudience;
    if (!issuer) {
      const pool = new cognito.UserPool(this, 'Users', {
        selfSignUpEnabled: false,
        signInAliases: { email: true },
        removalPolicy: cdk.RemovalPolicy.RETAIN,
      });
      const client = pool.addClient('Dashboard', { generateSecret: false });
      issuer = `https://cognito-idp.${this.region}.amazonaws.com/${pool.userPoolId}`;
      audience = [client.userPoolClientId];
      new cdk.CfnOutput(this, 'UserPoolId', { value: pool.userPoolId });
    }
    const authorizer = new HttpJwtAuthorizer('Jwt', issuer, { jwtAudience: audience ?? [] });

    this.api = new apigw.HttpApi(this, 'Api', { description: 'Polo dashboard' });
    const integrations: Record<string, HttpLambdaIntegration> = {};
    for (const route of props.routes) {
      const fn = this.functions[route.function];
      if (!fn) throw new Error(`route ${route.path} names unknown function ${route.function}`);
      integrations[route.function] ??= new HttpLambdaIntegration(`${route.function}-integration`, fn);
      this.api.addRoutes({
        path: route.path,
        methods: [route.method as apigw.HttpMethod],
        integration: integrations[route.function],
        authorizer: route.authorized ? authorizer : undefined,
      });
    }

    // Schedules.
    const schedule = (name: string, expression: events.Schedule) =>
      new events.Rule(this, `${name}-schedule`, {
        schedule: expression,
        targets: [new targets.LambdaFunction(this.functions[name], { retryAttempts: 2 })],
      });
    schedule('sync', events.Schedule.rate(cdk.Duration.minutes(15)));
    schedule('cop', events.Schedule.rate(cdk.Duration.hours(1)));
    schedule('reporter', events.Schedule.cron({ minute: '15', hour: '6' }));

    new cdk.CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new cdk.CfnOutput(this, 'DataBucket', { value: data.bucketName });
    new cdk.CfnOutput(this, 'ResourceTable', { value: resources.tableName });
  }
}
