import { cases } from "./cases/aggregates.ts";
import { checkDecls, runCases } from "./helpers.ts";

runCases("aggregates", cases);

checkDecls(["count", "sum", "product", "max", "min", "sort", "all", "any"]);
