import { cases } from "./cases/providers.ts";
import { checkDecls, runCases } from "./helpers.ts";

runCases("providers", cases);
checkDecls(["providers.aws.sign_req"]);
