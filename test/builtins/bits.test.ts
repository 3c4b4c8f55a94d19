import { cases } from "./cases/bits.ts";
import { checkDecls, runCases } from "./helpers.ts";

runCases("bits", cases);

checkDecls(["bits.and", "bits.or", "bits.xor", "bits.negate", "bits.lsh", "bits.rsh"]);
