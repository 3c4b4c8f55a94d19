// JSON response bodies as OPA's Go server writes them: struct fields in declaration order (not
// sorted), values in Go's encoding (sorted map keys, HTML characters escaped), a newline at the
// end (json.Encoder), and `?pretty` as Encoder.SetIndent("", "  "). Result values arrive as JSON
// text from the evaluation workers and are embedded as they are.

import { goJSON } from "../gotext/plainjson.ts";

/** A JSON text to embed as it is. */
export class Raw {
  constructor(readonly text: string) {}
}

/** An object whose keys keep the given order; values are Raw texts or plain values. */
export function object(entries: [string, unknown][]): string {
  const parts: string[] = [];
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    parts.push(`${goJSON(k)}:${v instanceof Raw ? v.text : goJSON(v)}`);
  }
  return `{${parts.join(",")}}`;
}

/** json.Indent(text, "", indent): re-indent compact JSON text (empty {} and [] stay as they are). */
export function indent(text: string, ind = "  "): string {
  let out = "";
  let depth = 0;
  let i = 0;
  const n = text.length;
  const nl = () => "\n" + ind.repeat(depth);
  while (i < n) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      let j = i + 1;
      while (j < n && " \t\r\n".includes(text[j])) j++;
      if (text[j] === close) {
        out += c + close;
        i = j + 1;
        continue;
      }
      depth++;
      out += c + nl();
      i++;
      continue;
    }
    if (c === "}" || c === "]") {
      depth--;
      out += nl() + c;
      i++;
      continue;
    }
    if (c === ",") {
      out += "," + nl();
      i++;
      continue;
    }
    if (c === ":") {
      out += ": ";
      i++;
      continue;
    }
    if (" \t\r\n".includes(c)) {
      i++;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** A response body: compact or pretty, with json.Encoder's trailing newline. */
export function body(text: string, pretty: boolean): string {
  return (pretty ? indent(text) : text) + "\n";
}
