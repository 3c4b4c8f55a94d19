import { cases } from "./cases/comparison.ts";
import { checkDecls, runCases } from "./helpers.ts";

runCases("comparison", cases);

checkDecls(["equal", "neq", "lt", "lte", "gt", "gte"]);
