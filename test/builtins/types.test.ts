import { cases } from "./cases/types.ts";
import { checkDecls, runCases } from "./helpers.ts";

runCases("types", cases);

checkDecls([
  "is_number", "is_string", "is_boolean", "is_array", "is_set", "is_object", "is_null", "type_name", "to_number",
  "cast_array", "cast_set", "cast_string", "cast_boolean", "cast_null", "cast_object",
]);
