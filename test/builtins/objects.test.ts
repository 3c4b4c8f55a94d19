import { cases } from "./cases/objects.ts";
import { checkDecls, runCases } from "./helpers.ts";

runCases("objects", cases);

checkDecls([
  "object.get", "object.remove", "object.union", "object.union_n", "object.filter", "object.keys",
  "object.subset", "json.filter", "json.remove", "json.patch",
]);
