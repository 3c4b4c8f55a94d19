// The input formats the page offers: "auto" (conftest's choice by file name; JSON or YAML in eval
// mode) and the parser names of src/formats (listed here so the page does not load the engine;
// test/playground/bundle.test.ts keeps the list equal to PARSER_NAMES).

export const FORMATS: readonly string[] = ["auto", "codeowners", "cue", "cyclonedx", "dockerfile", "dotenv", "edn", "groovy", "hcl1", "hcl2", "hocon", "ignore", "ini", "json", "jsonc", "jsonnet", "nginx", "properties", "spdx", "textproto", "toml", "vcl", "xml", "yaml"];
