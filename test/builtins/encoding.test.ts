import { cases } from "./cases/encoding.ts";
import { checkDecls, runCases } from "./helpers.ts";

runCases("encoding", cases);

checkDecls([
  "base64.encode", "base64.decode", "base64.is_valid", "base64url.encode", "base64url.encode_no_pad",
  "base64url.decode", "hex.encode", "hex.decode", "urlquery.encode", "urlquery.decode",
  "urlquery.encode_object", "urlquery.decode_object", "json.marshal", "json.marshal_with_options",
  "json.unmarshal", "json.is_valid", "yaml.marshal", "yaml.unmarshal", "yaml.is_valid",
  "json.verify_schema", "json.match_schema",
]);
