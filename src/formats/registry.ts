/** Every input parser Portcullis knows, one module per format. */
import type { InputParser } from './types.ts';
import { yamlParser } from './yaml.ts';
import { jsonParser, jsoncParser } from './json.ts';
import { dockerfileParser } from './dockerfile.ts';
import { hcl2Parser } from './hcl2.ts';
import { tomlParser } from './toml.ts';
import { iniParser } from './ini.ts';
import { propertiesParser } from './properties.ts';
import { dotenvParser } from './dotenv.ts';
import { ignoreParser } from './ignore.ts';
import { xmlParser } from './xml.ts';
import { hcl1Parser } from './hcl1.ts';
import { ednParser } from './edn.ts';
import { spdxParser } from './spdx.ts';
import { cyclonedxParser } from './cyclonedx.ts';
import { hoconParser } from './hocon.ts';
import { vclParser } from './vcl.ts';
import { jsonnetParser } from './jsonnet.ts';
import { cueParser } from './cue.ts';
import { textprotoParser } from './textproto.ts';
import { codeownersParser } from './codeowners.ts';
import { nginxParser } from './nginx.ts';
import { groovyParser } from './groovy.ts';

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
  jsonnetParser,
  cueParser,
  textprotoParser,
  codeownersParser,
  nginxParser,
  groovyParser,
];
