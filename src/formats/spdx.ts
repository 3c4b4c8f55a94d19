/**
 * SPDX tag-value documents (`.spdx`), in conftest's shape: the SPDX 2.x JSON
 * form of the document (spdxVersion, creationInfo, packages with their
 * files, relationships, annotations, hasExtractedLicensingInfos, ...).
 * `<text>...</text>` values may span lines; packages default to
 * filesAnalyzed: true; files that follow a package belong to it.
 */
import { ParseError, type InputParser } from './types.ts';

type Obj = Record<string, unknown>;

function push(o: Obj, key: string, v: unknown) {
  const arr = (o[key] as unknown[] | undefined) ?? [];
  arr.push(v);
  o[key] = arr;
}

function checksum(v: string): Obj {
  const m = /^\s*([A-Za-z0-9-]+):\s*(\S+)\s*$/.exec(v);
  if (!m) throw new Error(`invalid checksum: ${v}`);
  return { algorithm: m[1], checksumValue: m[2] };
}

interface Pair {
  tag: string;
  value: string;
  line: number;
}

function readPairs(content: string, file: string): Pair[] {
  const pairs: Pair[] = [];
  const lines = content.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const c = line.indexOf(':');
    if (c < 0) throw new ParseError(`invalid tag-value line: ${line}`, { file, parser: 'spdx', line: i + 1 });
    const tag = line.slice(0, c).trim();
    let value = line.slice(c + 1).trim();
    const startLine = i + 1;
    if (value.startsWith('<text>')) {
      let text = value.slice(6);
      // only the newest line can hold the end tag: checking it alone keeps long texts linear
      let last = text;
      while (!last.includes('</text>')) {
        if (++i >= lines.length) throw new ParseError('unterminated <text> value', { file, parser: 'spdx', line: startLine });
        last = lines[i]!;
        text += '\n' + last;
      }
      value = text.slice(0, text.indexOf('</text>'));
    }
    pairs.push({ tag, value, line: startLine });
  }
  return pairs;
}

function parse(content: string, file: string): Obj {
  const pairs = readPairs(content, file);
  if (pairs.length === 0) throw new ParseError('no tag values found', { file, parser: 'spdx' });
  const version = pairs.find((p) => p.tag === 'SPDXVersion')?.value ?? '';
  if (!/^SPDX-2\.[0-3]$/.test(version)) {
    throw new ParseError(`unsupported SPDX version: '${version}'`, { file, parser: 'spdx' });
  }
  const doc: Obj = {};
  const creation: Obj = {};
  let pkg: Obj | undefined;
  let fileObj: Obj | undefined;
  let snippet: Obj | undefined;
  let license: Obj | undefined;
  let rel: Obj | undefined;
  let ann: Obj | undefined;
  let section: 'doc' | 'pkg' | 'file' | 'snippet' | 'license' | 'rel' | 'ann' = 'doc';
  let lastRef: Obj | undefined;

  const setIn = (key: string, v: unknown) => {
    const target =
      section === 'pkg' ? pkg : section === 'file' ? fileObj : section === 'snippet' ? snippet : section === 'license' ? license : doc;
    target![key] = v;
  };

  for (const { tag, value, line } of pairs) {
    try {
      switch (tag) {
        // document
        case 'SPDXVersion': doc.spdxVersion = value; break;
        case 'DataLicense': doc.dataLicense = value; break;
        case 'DocumentName': doc.name = value; break;
        case 'DocumentNamespace': doc.documentNamespace = value; break;
        case 'DocumentComment': doc.comment = value; break;
        case 'ExternalDocumentRef': {
          const m = /^(\S+)\s+(\S+)\s+(.+)$/.exec(value);
          if (!m) throw new Error(`invalid ExternalDocumentRef: ${value}`);
          push(doc, 'externalDocumentRefs', { externalDocumentId: m[1], spdxDocument: m[2], checksum: checksum(m[3]!) });
          break;
        }
        case 'LicenseListVersion': creation.licenseListVersion = value; break;
        case 'Creator': push(creation, 'creators', value); break;
        case 'Created': creation.created = value; break;
        case 'CreatorComment': creation.comment = value; break;
        case 'SPDXID':
          if (section === 'doc') doc.SPDXID = value;
          else setIn('SPDXID', value);
          break;
        // package
        case 'PackageName':
          pkg = { name: value, filesAnalyzed: true };
          push(doc, 'packages', pkg);
          section = 'pkg';
          break;
        case 'PackageVersion': pkg!.versionInfo = value; break;
        case 'PackageFileName': pkg!.packageFileName = value; break;
        case 'PackageSupplier': pkg!.supplier = value; break;
        case 'PackageOriginator': pkg!.originator = value; break;
        case 'PackageDownloadLocation': pkg!.downloadLocation = value; break;
        case 'FilesAnalyzed': pkg!.filesAnalyzed = value.toLowerCase() === 'true'; break;
        case 'PackageVerificationCode': {
          const m = /^(\S+)(?:\s*\(excludes:\s*(.*)\))?$/.exec(value)!;
          const code: Obj = { packageVerificationCodeValue: m[1] };
          if (m[2]) code.packageVerificationCodeExcludedFiles = m[2].split(',').map((s) => s.trim()).filter(Boolean);
          pkg!.packageVerificationCode = code;
          break;
        }
        case 'PackageChecksum': push(pkg!, 'checksums', checksum(value)); break;
        case 'PackageHomePage': pkg!.homepage = value; break;
        case 'PackageSourceInfo': pkg!.sourceInfo = value; break;
        case 'PackageLicenseConcluded': pkg!.licenseConcluded = value; break;
        case 'PackageLicenseInfoFromFiles': push(pkg!, 'licenseInfoFromFiles', value); break;
        case 'PackageLicenseDeclared': pkg!.licenseDeclared = value; break;
        case 'PackageLicenseComments': pkg!.licenseComments = value; break;
        case 'PackageCopyrightText': pkg!.copyrightText = value; break;
        case 'PackageSummary': pkg!.summary = value; break;
        case 'PackageDescription': pkg!.description = value; break;
        case 'PackageComment': pkg!.comment = value; break;
        case 'PackageAttributionText': push(pkg!, 'attributionTexts', value); break;
        case 'PrimaryPackagePurpose': pkg!.primaryPackagePurpose = value; break;
        case 'ReleaseDate': pkg!.releaseDate = value; break;
        case 'BuiltDate': pkg!.builtDate = value; break;
        case 'ValidUntilDate': pkg!.validUntilDate = value; break;
        case 'ExternalRef': {
          const m = /^(\S+)\s+(\S+)\s+(.+)$/.exec(value);
          if (!m) throw new Error(`invalid ExternalRef: ${value}`);
          lastRef = { referenceCategory: m[1], referenceType: m[2], referenceLocator: m[3] };
          push(pkg!, 'externalRefs', lastRef);
          break;
        }
        case 'ExternalRefComment': lastRef!.comment = value; break;
        // file
        case 'FileName':
          fileObj = { fileName: value };
          if (pkg) push(pkg, 'files', fileObj);
          else push(doc, 'files', fileObj);
          section = 'file';
          break;
        case 'FileType': push(fileObj!, 'fileTypes', value); break;
        case 'FileChecksum': push(fileObj!, 'checksums', checksum(value)); break;
        case 'LicenseConcluded': fileObj!.licenseConcluded = value; break;
        case 'LicenseInfoInFile': push(fileObj!, 'licenseInfoInFiles', value); break;
        case 'LicenseComments':
          if (section === 'file') fileObj!.licenseComments = value;
          else setIn('licenseComments', value);
          break;
        case 'FileCopyrightText': fileObj!.copyrightText = value; break;
        case 'FileComment': fileObj!.comment = value; break;
        case 'FileNotice': fileObj!.noticeText = value; break;
        case 'FileContributor': push(fileObj!, 'fileContributors', value); break;
        case 'FileAttributionText': push(fileObj!, 'attributionTexts', value); break;
        // snippet
        case 'SnippetSPDXID':
          snippet = { SPDXID: value };
          push(doc, 'snippets', snippet);
          section = 'snippet';
          break;
        case 'SnippetFromFileSPDXID': snippet!.snippetFromFile = value; break;
        case 'SnippetByteRange':
        case 'SnippetLineRange': {
          const [a, b] = value.split(':').map((x) => Number(x.trim()));
          const k = tag === 'SnippetByteRange' ? 'offset' : 'lineNumber';
          push(snippet!, 'ranges', {
            startPointer: { [k]: a, reference: snippet!.snippetFromFile },
            endPointer: { [k]: b, reference: snippet!.snippetFromFile },
          });
          break;
        }
        case 'SnippetLicenseConcluded': snippet!.licenseConcluded = value; break;
        case 'LicenseInfoInSnippet': push(snippet!, 'licenseInfoInSnippets', value); break;
        case 'SnippetLicenseComments': snippet!.licenseComments = value; break;
        case 'SnippetCopyrightText': snippet!.copyrightText = value; break;
        case 'SnippetComment': snippet!.comment = value; break;
        case 'SnippetName': snippet!.name = value; break;
        case 'SnippetAttributionText': push(snippet!, 'attributionTexts', value); break;
        // other licensing information
        case 'LicenseID':
          license = { licenseId: value };
          push(doc, 'hasExtractedLicensingInfos', license);
          section = 'license';
          break;
        case 'ExtractedText': license!.extractedText = value; break;
        case 'LicenseName': license!.name = value; break;
        case 'LicenseCrossReference': push(license!, 'seeAlsos', value); break;
        case 'LicenseComment': license!.comment = value; break;
        // relationships
        case 'Relationship': {
          const m = /^(\S+)\s+(\S+)\s+(\S+)$/.exec(value);
          if (!m) throw new Error(`invalid Relationship: ${value}`);
          rel = { spdxElementId: m[1], relationshipType: m[2], relatedSpdxElement: m[3] };
          push(doc, 'relationships', rel);
          break;
        }
        case 'RelationshipComment': rel!.comment = value; break;
        // annotations
        case 'Annotator':
          ann = { annotator: value };
          push(doc, 'annotations', ann);
          break;
        case 'AnnotationDate': ann!.annotationDate = value; break;
        case 'AnnotationType': ann!.annotationType = value; break;
        case 'SPDXREF': break;
        case 'AnnotationComment': ann!.comment = value; break;
        // SPDX 2.0/2.1 reviews are dropped in 2.3 JSON
        case 'Reviewer':
        case 'ReviewDate':
        case 'ReviewComment':
          break;
        default:
          throw new Error(`received unknown tag ${tag} in ${section} section`);
      }
    } catch (e) {
      if (e instanceof TypeError) throw new ParseError(`tag ${tag} appears before the section it belongs to`, { file, parser: 'spdx', line });
      throw new ParseError((e as Error).message, { file, parser: 'spdx', line });
    }
  }
  if (Object.keys(creation).length) doc.creationInfo = creation;
  // older 2.x documents are read into the 2.3 model
  doc.spdxVersion = 'SPDX-2.3';
  return doc;
}

export const spdxParser: InputParser = { name: 'spdx', parse };
