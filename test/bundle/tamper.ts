// Tampered copies of a signed bundle archive (shared by record.ts and the tests): each changes
// one thing an attacker might change. Deterministic, so the recorded answers of `opa` apply.

import { readTarGz, writeTarGz, type TarEntry } from "../../src/bundle/index.ts";

export interface Variant {
  name: string;
  archive: Buffer;
  /** Extra `opa build` flags for this case. */
  args: string[];
}

function edit(archive: Buffer, f: (es: TarEntry[]) => TarEntry[]): Buffer {
  return writeTarGz(f(readTarGz(archive)));
}

function replace(es: TarEntry[], suffix: string, g: (s: string) => string): TarEntry[] {
  return es.map((e) => (e.name.endsWith(suffix) ? { name: e.name, data: Buffer.from(g(e.data.toString("utf8"))) } : e));
}

export function variants(signed: Buffer): Variant[] {
  return [
    { name: "untouched", archive: signed, args: [] },
    { name: "policy edited", archive: edit(signed, (es) => replace(es, ".rego", (s) => s.replace("default allow := false", "default allow := true"))), args: [] },
    { name: "policy comment added", archive: edit(signed, (es) => replace(es, ".rego", (s) => s + "# harmless?\n")), args: [] },
    { name: "data value changed", archive: edit(signed, (es) => replace(es, "/data.json", (s) => s.replace('"alice"', '"mallory"'))), args: [] },
    {
      name: "data reformatted (same document)",
      archive: edit(signed, (es) => replace(es, "/data.json", (s) => JSON.stringify(JSON.parse(s.replace(/12345678901234567890/, '"BIG"')), null, 2).replace('"BIG"', "12345678901234567890").replace('"limit": 1.5', '"limit": 1.50'))),
      args: [],
    },
    { name: "manifest revision changed", archive: edit(signed, (es) => replace(es, "/.manifest", (s) => s.replace('"r1"', '"r1-evil"'))), args: [] },
    {
      name: "extra policy file",
      archive: edit(signed, (es) => [...es, { name: "/policy/x/extra.rego", data: Buffer.from("package x\n\nbackdoor := true\n") }]),
      args: [],
    },
    { name: "manifest removed", archive: edit(signed, (es) => es.filter((e) => e.name !== "/.manifest")), args: [] },
    { name: "data removed", archive: edit(signed, (es) => es.filter((e) => e.name !== "/data.json")), args: [] },
    { name: "signatures removed", archive: edit(signed, (es) => es.filter((e) => !e.name.endsWith(".signatures.json"))), args: [] },
    {
      name: "signed payload altered",
      archive: edit(signed, (es) =>
        replace(es, ".signatures.json", (s) => {
          const doc = JSON.parse(s) as { signatures: string[] };
          const [h, p, sig] = doc.signatures[0].split(".");
          const payload = JSON.parse(Buffer.from(p, "base64url").toString()) as { files: { hash: string }[] };
          payload.files[0].hash = "0".repeat(64);
          doc.signatures[0] = [h, Buffer.from(JSON.stringify(payload)).toString("base64url"), sig].join(".");
          return JSON.stringify(doc);
        }),
      ),
      args: [],
    },
    { name: "data value changed, data.json excluded", archive: edit(signed, (es) => replace(es, "/data.json", (s) => s.replace('"alice"', '"mallory"'))), args: ["--exclude-files-verify", "data.json"] },
    { name: "wrong key", archive: signed, args: ["--verification-key", "rsa2.pub"] },
    { name: "wrong scope", archive: signed, args: ["--scope", "write"] },
    { name: "unknown key id", archive: signed, args: ["--verification-key-id", "other"] },
  ];
}
