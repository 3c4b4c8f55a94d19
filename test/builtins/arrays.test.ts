import { cases } from "./cases/arrays.ts";
import { checkDecls, runCases } from "./helpers.ts";

runCases("arrays", cases);

checkDecls(["array.concat", "array.slice", "array.reverse"]);
