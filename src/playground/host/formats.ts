// The browser bundle's src/formats/registry.ts (see ./substitutes.ts): every input parser of
// `portcullis test` except the two that read other files — jsonnet (imports) and textproto
// (.proto files) — which are listed under their names and answer "not available in the browser".

import type { InputParser } from '../../formats/types.ts';
import { yamlParser } from '../../formats/yaml.ts';
import { jsonParser, jsoncParser } from '../../formats/json.ts';
import { dockerfileParser } from '../../formats/dockerfile.ts';
import { hcl2Parser } from '../../formats/hcl2.ts';
import { tomlParser } from '../../formats/toml.ts';
import { iniParser } from '../../formats/ini.ts';
import { propertiesParser } from '../../formats/properties.ts';
import { dotenvParser } from '../../formats/dotenv.ts';
import { ignoreParser } from '../../formats/ignore.ts';
import { xmlParser } from '../../formats/xml.ts';
import { hcl1Parser } from '../../formats/hcl1.ts';
import { ednParser } from '../../formats/edn.ts';
import { spdxParser } from '../../formats/spdx.ts';
import { cyclonedxParser } from '../../formats/cyclonedx.ts';
import { hoconParser } from '../../formats/hocon.ts';
import { vclParser } from '../../formats/vcl.ts';
import { cueParser } from '../../formats/cue.ts';
import { codeownersParser } from '../../formats/codeowners.ts';
import { nginxParser } from '../../formats/nginx.ts';
import { groovyParser } from '../../formats/groovy.ts';
import { ParseError } from '../../formats/types.ts';

function unavailable(name: string): InputParser {
  return {
    name,
    parse(_content: string, file: string): unknown {
      throw new ParseError(`the ${name} parser is not available in the browser (it reads other files; run portcullis test)`, { file, parser: name });
    },
  };
}

export const PARSERS: InputParser[] = [
  yamlParser,
  jsonParser,
  jsoncParser,
  dockerfileParser,
  hcl2Parser,
  tomlParser,
  iniParser,
  propertiesParser,
  dotenvParser,
  ignoreParser,
  xmlParser,
  hcl1Parser,
  ednParser,
  spdxParser,
  cyclonedxParser,
  hoconParser,
  vclParser,
  unavailable('jsonnet'),
  cueParser,
  unavailable('textproto'),
  codeownersParser,
  nginxParser,
  groovyParser,
];
