// Reviewing generated resources, as Gatekeeper's webhook, audit and gator test do: each
// resultant is reviewed as its own object with source Generated (so `match.source: Generated`
// or `All` constraints see it), in the generator's Namespace and with the generator's
// operation; its violations are reported against the generator, their messages prefixed with
// `[Implied by <ExpansionTemplate name>]`, and their enforcement action replaced by the
// template's spec.enforcementAction when it sets one.

import type { Client, EvaluateOptions, Violation } from "../client.ts";
import { buildReview, type ReviewOptions } from "../review.ts";
import type { Obj } from "../yaml.ts";
import type { Resultant } from "./system.ts";

/** Gatekeeper's prefix of a generated resource's violation messages. */
export function impliedByPrefix(templateName: string): string {
  return `[Implied by ${templateName}]`;
}

/** A generated resource's violations as the generator's (prefix, enforcement action, object). */
export function impliedViolations(vs: Violation[], r: Resultant, parent: Obj | null): Violation[] {
  return vs.map((v) => ({
    ...v,
    msg: `${impliedByPrefix(r.templateName)} ${v.msg}`,
    ...(r.enforcementAction !== "" ? { enforcementAction: r.enforcementAction } : {}),
    object: parent,
  }));
}

/**
 * Review each resultant (source Generated) and return their violations as the parent's.
 * `opts` carries what the parent's review had: operation, userInfo, the Namespace object.
 */
export async function reviewResultants(
  client: Client,
  resultants: Resultant[],
  parent: Obj | null,
  opts: Omit<ReviewOptions, "source" | "oldObject"> = {},
  eo: EvaluateOptions = {},
): Promise<Violation[]> {
  const out: Violation[] = [];
  for (const r of resultants) {
    const built = buildReview(r.obj, { ...opts, source: "Generated" });
    const resp = await client.reviewBuilt(built, eo);
    out.push(...impliedViolations(resp.results, r, parent));
  }
  return out;
}
