import * as cdk from 'aws-cdk-lib';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';

import { acceptCdkDependsOn, PoloEnvironment } from './environment.js';
import { suppressPipelineFindings } from './nag.js';

export interface PoloPipelineStackProps extends cdk.StackProps {
  /** `owner/name` of the repository, reached through a CodeStar connection. */
  repository: string;
  branch: string;
  connectionArn: string;
  /** The environments to deploy, in this order (e.g. staging, then prod). */
  environments: PoloEnvironment[];
  /** The application stage of one environment, named after it so that its stack is
   *  `{env}-PoloApp`, the same stack `just deploy -e {env}` deploys. */
  stage: (environment: PoloEnvironment) => cdk.Stage;
}

/** What the build step runs, in order: the tests, the stylesheet, the zips, a SAM build of
 *  each environment's template, and the synth the deploy stages use. */
export function buildCommands(environments: PoloEnvironment[]): string[] {
  return [
    'scripts/just test',
    'scripts/just tailwind',
    'scripts/just zip',
    ...environments.map((e) => `scripts/just build -e ${e.name}`),
    'cd cdk && npx cdk synth --quiet',
  ];
}

/** CI/CD: on every push, test, build and synthesize, then deploy each environment in turn. */
export class PoloPipelineStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props: PoloPipelineStackProps) {
    super(scope, id, props);
    acceptCdkDependsOn(this);
    if (props.environments.length === 0) throw new Error('the pipeline needs at least one environment to deploy');
    const source = pipelines.CodePipelineSource.connection(props.repository, props.branch, {
      connectionArn: props.connectionArn,
    });
    const pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineName: 'polo',
      pipelineType: cdk.aws_codepipeline.PipelineType.V2,
      // Artifacts encrypted with a key of the pipeline's own, rotated yearly.
      crossAccountKeys: true,
      enableKeyRotation: true,
      synth: new pipelines.ShellStep('TestBuildSynth', {
        input: source,
        installCommands: ['curl https://sh.rustup.rs -sSf | sh -s -- -y --profile minimal', '. "$HOME/.cargo/env"'],
        commands: buildCommands(props.environments),
        primaryOutputDirectory: 'cdk/cdk.out',
      }),
      codeBuildDefaults: {
        buildEnvironment: { computeType: cdk.aws_codebuild.ComputeType.LARGE },
        timeout: cdk.Duration.minutes(60),
      },
    });
    // Stages run in the order they are added; a failed stage stops the ones after it.
    for (const environment of props.environments) pipeline.addStage(props.stage(environment));
    pipeline.buildPipeline();
    suppressPipelineFindings(this);
  }
}
