// gator expand's output: each resource as YAML (go-yaml v2 over the object's JSON form: keys
// sorted, numbers as JSON numbers) or as Go's json.MarshalIndent with four spaces, separated
// by `---` lines.

import { marshalYAML } from "../../builtins/goyaml.ts";
import { fromJS } from "../../rego/value.ts";
import { goJSON } from "../../gotext/plainjson.ts";
import type { Obj } from "../yaml.ts";

export type ExpandFormat = "yaml" | "json";

/** The resources as gator expand prints them (without the final newline fmt.Println adds). */
export function formatResources(objs: Obj[], format: ExpandFormat): string {
  const one = format === "json" ? (o: Obj) => goJSON(o, "    ") : (o: Obj) => marshalYAML(fromJS(o));
  return objs.map((o, i) => one(o) + (i !== objs.length - 1 ? "---\n" : "")).join("");
}
