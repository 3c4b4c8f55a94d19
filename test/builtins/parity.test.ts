// OPA-parity cases for uri.parse/uri.is_valid (Go's net/url authority rules: IP literals, host
// escapes, userinfo, fragments), io.jwt.* (nested and JWE tokens, PEM key errors, raw header
// reading as jwx/fastjson does) and crypto.x509.parse_certificate_request's ASN.1 errors. The
// expectations are OPA 1.19's answers, recorded by gen-expected.ts from calls/parity.txt.
import { cases } from "./cases/parity.ts";
import { runCases } from "./helpers.ts";

runCases("parity", cases);
