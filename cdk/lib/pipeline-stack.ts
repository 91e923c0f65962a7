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

/** What the test step runs: the README's test command, nothing it produces is deployed. */
export const TEST_COMMANDS = ['scripts/just test'];

/** Installs rustup at a pinned version without a default toolchain; `rust-toolchain.toml`
 *  then names the exact toolchain every command uses (rustup installs it on first use and
 *  checks each component against the channel manifest's SHA-256). */
export const INSTALL_RUST = [
  "curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | RUSTUP_VERSION=1.28.2 sh -s -- -y --profile minimal --default-toolchain none",
  '. "$HOME/.cargo/env"',
  'rustup show active-toolchain || rustup toolchain install',
];

/** What the build step runs, in order, after the test step passed: the stylesheet, the
 *  zips (`cargo lambda build --locked`), a SAM build of each environment's template, and the
 *  synth the deploy stages use. */
export function buildCommands(environments: PoloEnvironment[]): string[] {
  return [
    'scripts/just tailwind',
    'scripts/just zip',
    ...environments.map((e) => `scripts/just build -e ${e.name}`),
    'cd cdk && npx cdk synth --quiet',
  ];
}

/** CI/CD: on every push, test; then, in another project with its own role, build and
 *  synthesize; then deploy each environment in turn. The test step's role and environment
 *  are its own: the build and deploy steps cannot read them, and nothing the tests leave
 *  behind (the emulator, tools they installed) reaches the artifacts. */
export class PoloPipelineStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props: PoloPipelineStackProps) {
    super(scope, id, props);
    acceptCdkDependsOn(this);
    if (props.environments.length === 0) throw new Error('the pipeline needs at least one environment to deploy');
    const source = pipelines.CodePipelineSource.connection(props.repository, props.branch, {
      connectionArn: props.connectionArn,
    });
    const test = new pipelines.CodeBuildStep('Test', {
      input: source,
      installCommands: INSTALL_RUST,
      commands: TEST_COMMANDS,
    });
    const synth = new pipelines.CodeBuildStep('BuildSynth', {
      input: source,
      installCommands: INSTALL_RUST,
      commands: buildCommands(props.environments),
      primaryOutputDirectory: 'cdk/cdk.out',
    });
    synth.addStepDependency(test);
    const pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineName: 'polo',
      pipelineType: cdk.aws_codepipeline.PipelineType.V2,
      // Artifacts encrypted with a key of the pipeline's own, rotated yearly.
      crossAccountKeys: true,
      enableKeyRotation: true,
      synth,
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
