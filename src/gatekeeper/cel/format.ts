// The named formats of Kubernetes' CEL format library (format.named("dns1123Label"),
// format.dns1123Label().validate(s), …): the validation functions of k8s.io/apimachinery with
// their error texts.

const dns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?";
const labelKeyFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const labelValueFmt = `(${labelKeyFmt})?`;

const anchored = (f: string) => new RegExp(`^(?:${f})$`);
const dns1123LabelRe = anchored(dns1123LabelFmt);
const dns1123SubdomainRe = anchored(dns1123SubdomainFmt);
const dns1035LabelRe = anchored(dns1035LabelFmt);
const labelKeyRe = anchored(labelKeyFmt);
const labelValueRe = anchored(labelValueFmt);

const maxLen = (n: number) => `must be no more than ${n} characters`;
/** apimachinery's RegexError: examples joined as "'a',  or 'b', " (its double space included). */
function regexErrorGo(msg: string, fmt: string, ...examples: string[]): string {
  let s = `${msg} (e.g. `;
  examples.forEach((e, i) => {
    if (i > 0) s += " or ";
    s += `'${e}', `;
  });
  return `${s}regex used for validation is '${fmt}')`;
}

function dns1123Label(v: string): string[] {
  const errs: string[] = [];
  if (utf8Len(v) > 63) errs.push(maxLen(63));
  if (!dns1123LabelRe.test(v)) {
    if (dns1123SubdomainRe.test(v)) errs.push("must not contain dots");
    else errs.push(regexErrorGo("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", dns1123LabelFmt, "my-name", "123-abc"));
  }
  return errs;
}

function dns1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (utf8Len(v) > 253) errs.push(maxLen(253));
  if (!dns1123SubdomainRe.test(v)) errs.push(regexErrorGo("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", dns1123SubdomainFmt, "example.com"));
  return errs;
}

function dns1035Label(v: string): string[] {
  const errs: string[] = [];
  if (utf8Len(v) > 63) errs.push(maxLen(63));
  if (!dns1035LabelRe.test(v)) errs.push(regexErrorGo("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", dns1035LabelFmt, "my-name", "abc-123"));
  return errs;
}

const labelKeyErrMsg = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

function qualifiedName(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split("/");
  let name: string;
  if (parts.length === 1) name = parts[0];
  else if (parts.length === 2) {
    const prefix = parts[0];
    name = parts[1];
    if (prefix.length === 0) errs.push("prefix part must be non-empty");
    else errs.push(...dns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [`a valid label key ${regexErrorGo(labelKeyErrMsg, labelKeyFmt, "MyName", "my.name", "123-abc")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errs.push("name part must be non-empty");
  else if (utf8Len(name) > 63) errs.push(`name part ${maxLen(63)}`);
  if (!labelKeyRe.test(name)) errs.push(`name part ${regexErrorGo(labelKeyErrMsg, labelKeyFmt, "MyName", "my.name", "123-abc")}`);
  return errs;
}

function labelValue(v: string): string[] {
  const errs: string[] = [];
  if (utf8Len(v) > 63) errs.push(maxLen(63));
  if (!labelValueRe.test(v)) errs.push(regexErrorGo("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", labelValueFmt, "MyValue", "my_value", "12345"));
  return errs;
}

/** Kubernetes' maskTrailingDash for generateName prefixes. */
function maskTrailingDash(s: string): string {
  return s.length > 1 && s.endsWith("-") ? `${s.slice(0, -2)}a` : s;
}

function utf8Len(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

const uuidRe = /^(?:[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})$/i;
const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const dateRe = /^(\d{4})-(\d{2})-(\d{2})$/;
const dateTimeRe = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[m - 1];
}

import { parseURL } from "./url.ts";

/** Format name → validation (errors; empty when valid). */
export const FORMATS = new Map<string, (s: string) => string[]>([
  ["dns1123Label", dns1123Label],
  ["dns1123Subdomain", dns1123Subdomain],
  ["dns1035Label", dns1035Label],
  ["qualifiedName", qualifiedName],
  ["dns1123LabelPrefix", (s) => dns1123Label(maskTrailingDash(s))],
  ["dns1123SubdomainPrefix", (s) => dns1123Subdomain(maskTrailingDash(s))],
  ["dns1035LabelPrefix", (s) => dns1035Label(maskTrailingDash(s))],
  ["labelValue", labelValue],
  [
    "uri",
    (s) => {
      const u = parseURL(s);
      return typeof u === "string" ? [u] : [];
    },
  ],
  ["uuid", (s) => (uuidRe.test(s) ? [] : ["does not match the UUID format"])],
  ["byte", (s) => (base64Re.test(s) ? [] : ["invalid base64"])],
  [
    "date",
    (s) => {
      const m = dateRe.exec(s);
      return m && validDate(+m[1], +m[2], +m[3]) ? [] : ["invalid date"];
    },
  ],
  [
    "datetime",
    (s) => {
      const m = dateTimeRe.exec(s);
      return m && validDate(+m[1], +m[2], +m[3]) && +m[4] < 24 && +m[5] < 60 && +m[6] < 60 ? [] : ["invalid datetime"];
    },
  ],
]);

export function validateFormat(name: string, s: string): string[] {
  const f = FORMATS.get(name);
  return f ? f(s) : [`unknown format ${name}`];
}
