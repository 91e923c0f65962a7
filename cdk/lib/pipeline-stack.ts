import * as cdk from 'aws-cdk-lib';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';

export interface PoloPipelineStackProps extends cdk.StackProps {
  /** `owner/name` of the repository, reached through a CodeStar connection. */
  repository: string;
  branch: string;
  connectionArn: string;
  /** Builds the application stage the pipeline deploys. */
  stage: (scope: Construct) => cdk.Stage;
}

/** CI/CD: on every push, test, zip, synthesize, then deploy the application stage. */
export class PoloPipelineStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props: PoloPipelineStackProps) {
    super(scope, id, props);
    const source = pipelines.CodePipelineSource.connection(props.repository, props.branch, {
      connectionArn: props.connectionArn,
    });
    const pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineName: 'polo',
      pipelineType: cdk.aws_codepipeline.PipelineType.V2,
      synth: new pipelines.ShellStep('TestZipSynth', {
        input: source,
        installCommands: ['curl https://sh.rustup.rs -sSf | sh -s -- -y --profile minimal', '. "$HOME/.cargo/env"'],
        commands: ['scripts/just test', 'scripts/just zip', 'cd cdk && npm ci && npx cdk synth --quiet'],
        primaryOutputDirectory: 'cdk/cdk.out',
      }),
      codeBuildDefaults: {
        buildEnvironment: { computeType: cdk.aws_codebuild.ComputeType.LARGE },
        timeout: cdk.Duration.minutes(60),
      },
    });
    pipeline.addStage(props.stage(this));
  }
}
