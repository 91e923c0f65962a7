import { readFileSync } from 'node:fs';

/** One route of the table `polo routes --json` prints (committed as cdk/routes.json). */
export interface RouteSpec {
  method: string;
  path: string;
  function: string;
  authorized: boolean;
}

/** Reads the route table; a Rust test keeps the file equal to the code's table. */
export function loadRoutes(file: string): RouteSpec[] {
  const routes = JSON.parse(readFileSync(file, 'utf8')) as RouteSpec[];
  if (!Array.isArray(routes) || routes.length === 0) {
    throw new Error(`${file}: expected a non-empty JSON array of routes`);
  }
  return routes;
}

/** The fleet accounts' read roles, from config/polo.toml (`role_arn = "…"` lines). */
export function fleetRoleArns(configToml: string): string[] {
  const arns = [...configToml.matchAll(/^\s*role_arn\s*=\s*"([^"]+)"/gm)].map((m) => m[1]);
  if (arns.length === 0) {
    throw new Error('config/polo.toml: no [[accounts]] role_arn found');
  }
  return arns;
}
