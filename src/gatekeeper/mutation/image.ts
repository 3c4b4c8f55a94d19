// AssignImage: an image reference split into domain, path and tag (`:tag` or `@digest`) the way
// Gatekeeper splits it, the parts a mutator sets replaced, and its parameter checks.

const DOMAIN_RE = /(^\w[\w\-_]*\.[\w\-_.]*[\w](:\d+)?$)|(^localhost(:\d+)?$)/;
const PATH_RE = /^[a-z0-9]+(?:(?:(?:[._/]|__|[-]*)[a-z0-9]+)+)?/;
const TAG_RE = /(^:[\w][\w.-]{0,127}$)|(^@[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}$)/;

/** The registry part: the text before the first "/" when it has a "." or ":" or is "localhost". */
export function splitDomain(name: string): [string, string] {
  const i = name.indexOf("/");
  if (i === -1 || (!/[.:]/.test(name.slice(0, i)) && name.slice(0, i) !== "localhost")) return ["", name];
  return [name.slice(0, i), name.slice(i + 1)];
}

function splitTag(remainder: string): [string, string] {
  const i = remainder.search(/[:@]/);
  return i > -1 ? [remainder.slice(0, i), remainder.slice(i)] : [remainder, ""];
}

/** The image reference with the set parts replaced (an unset part keeps the old one). */
export function mutateImage(domain: string, path: string, tag: string, ref: string): string {
  const [d0, rest] = splitDomain(ref);
  const [p0, t0] = splitTag(rest);
  const d = domain || d0;
  const p = path || p0;
  const t = tag || t0;
  return (d ? d + "/" : "") + p + t;
}

/** Gatekeeper's validateImageParts; returns its error text or null. */
export function imagePartsError(domain: string, path: string, tag: string): string | null {
  if (domain === "" && path === "" && tag === "") return "at least one of [assignDomain, assignPath, assignTag] must be set";
  if (domain !== "") {
    if (!DOMAIN_RE.test(domain)) return `assignDomain ${JSON.stringify(domain)} must be a fully-qualified domain name or localhost`;
    const [d, r] = splitDomain(domain + "/");
    if (d !== domain || r !== "") return `domain ${JSON.stringify(domain)} could not be recognized as a valid domain`;
  }
  if (path !== "") {
    const m = PATH_RE.exec(path);
    if (!m || m[0] !== path) return `assignPath ${JSON.stringify(path)} must be a valid docker image path`;
  }
  if (tag !== "") {
    if (!TAG_RE.test(tag)) return `assignTag ${JSON.stringify(tag)} must be a valid docker image tag or digest starting with ':' or '@'`;
    const [p, t] = splitTag(tag);
    if (t !== tag || p !== "") return `tag ${JSON.stringify(tag)} could not be recognized as a valid tag or digest`;
  }
  if (domain === "" && splitDomain(path)[0] !== "") {
    return `assignDomain must be set if the first part of assignPath ${JSON.stringify(path)} can be interpretted as part of a domain`;
  }
  return null;
}
