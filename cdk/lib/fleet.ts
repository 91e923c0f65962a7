/** The fleet accounts' read roles, from config/polo.toml (`role_arn = "…"` lines). */
export function fleetRoleArns(configToml: string): string[] {
  const arns = [...configToml.matchAll(/^\s*role_arn\s*=\s*"([^"]+)"/gm)].map((m) => m[1]);
  if (arns.length === 0) {
    throw new Error('config/polo.toml: no [[accounts]] role_arn found');
  }
  return arns;
}
