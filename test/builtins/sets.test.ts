import { cases } from "./cases/sets.ts";
import { checkDecls, runCases } from "./helpers.ts";

runCases("sets", cases);

checkDecls(["and", "or", "intersection", "union", "set_diff"]);
