import { cases } from "./cases/graphql.ts";
import { checkDecls, runCases } from "./helpers.ts";

runCases("graphql", cases);
checkDecls([
  "graphql.is_valid", "graphql.parse", "graphql.parse_and_verify",
  "graphql.parse_query", "graphql.parse_schema", "graphql.schema_is_valid",
]);
