// Records cel-go's values for the expressions of test/gatekeeper/cel/celgo-eval-cases.ts into
// test/gatekeeper/cel/recorded/celgo-eval.json (checked by celgo-eval.test.ts), run by hand when
// the cases or the reference change:
//   node --import tsx scripts/record-celgo-eval.ts
// The reference is cel-go v0.26.0 in Kubernetes' CEL environment (k8s.io/apiserver v0.34.1's
// StoredExpressions base environment: its libraries, optional types, two-variable
// comprehensions), the versions Gatekeeper v3.21 builds with. The Go program below is written
// to a temporary directory, built there (Go and the module proxy or a warm module cache are
// needed) and removed. Without Go it says so and records nothing.

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { EVAL_CASES } from "../test/gatekeeper/cel/celgo-eval-cases.ts";

const OUT = fileURLToPath(new URL("../test/gatekeeper/cel/recorded/celgo-eval.json", import.meta.url));
const CEL_GO = "v0.26.0";
const APISERVER = "v0.34.1";

const GO_MOD = `module portcullis.local/celgo-eval

go 1.24

require (
\tgithub.com/google/cel-go ${CEL_GO}
\tk8s.io/apiserver ${APISERVER}
)
`;

// Reads one JSON request a line ({"expr", "o"}), answers one JSON line: {"type", "value"} (the
// value as protojson renders a google.protobuf.Value), {"error"} or {"compileError"}.
const MAIN_GO = `package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/google/cel-go/cel"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apiserver/pkg/cel/environment"
)

type request struct {
	Expr  string ` + "`" + `json:"expr"` + "`" + `
	Input any    ` + "`" + `json:"input"` + "`" + `
}

func fromJSON(x any) any {
	switch v := x.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil && !strings.ContainsAny(v.String(), ".eE") {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		out := map[string]any{}
		for k, y := range v {
			out[k] = fromJSON(y)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, y := range v {
			out[i] = fromJSON(y)
		}
		return out
	}
	return x
}

func main() {
	base, err := environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion(), true).Env(environment.StoredExpressions)
	if err != nil {
		panic(err)
	}
	env, err := base.Extend(cel.Variable("o", cel.DynType))
	if err != nil {
		panic(err)
	}
	compile := func(src string) (cel.Program, error) {
		ast, iss := env.Compile(src)
		if iss.Err() != nil {
			return nil, iss.Err()
		}
		return env.Program(ast, cel.EvalOptions(cel.OptTrackCost), cel.CostLimit(1000000))
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		dec := json.NewDecoder(strings.NewReader(in.Text()))
		dec.UseNumber()
		var r request
		if err := dec.Decode(&r); err != nil {
			panic(err)
		}
		act := map[string]any{"o": fromJSON(r.Input)}
		p, err := compile(r.Expr)
		if err != nil {
			out.Encode(map[string]any{"compileError": err.Error()})
			continue
		}
		val, _, err := p.Eval(act)
		if err != nil {
			out.Encode(map[string]any{"error": err.Error()})
			continue
		}
		res := map[string]any{"type": val.Type().TypeName()}
		if nv, err := val.ConvertToNative(reflect.TypeOf(&structpb.Value{})); err == nil {
			b, _ := protojson.Marshal(nv.(*structpb.Value))
			res["value"] = json.RawMessage(b)
		} else {
			res["value"] = fmt.Sprint(val)
		}
		out.Encode(res)
	}
}
`;

function main(): void {
  const probe = spawnSync("go", ["version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    console.log("record-celgo-eval: skipped, Go is not installed");
    return;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "celgo-eval-"));
  try {
    fs.writeFileSync(path.join(work, "go.mod"), GO_MOD);
    fs.writeFileSync(path.join(work, "main.go"), MAIN_GO);
    const go = (args: string[]) => {
      const r = spawnSync("go", args, { cwd: work, encoding: "utf8", env: { ...process.env, GOFLAGS: "-mod=mod" } });
      if (r.status !== 0) throw new Error(`go ${args.join(" ")}: ${r.stderr}`);
    };
    go(["mod", "tidy"]);
    go(["build", "-o", "oracle", "."]);
    const input = EVAL_CASES.map((c) => JSON.stringify({ expr: c.expr, input: c.o ?? null })).join("\n") + "\n";
    const r = spawnSync(path.join(work, "oracle"), [], { input, encoding: "utf8", maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`the oracle failed: ${r.stderr}`);
    const answers = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as unknown);
    if (answers.length !== EVAL_CASES.length) throw new Error(`the oracle answered ${answers.length} of ${EVAL_CASES.length}`);
    const cases = EVAL_CASES.map((c, i) => ({ expr: c.expr, ...(c.o !== undefined ? { o: c.o } : {}), celGo: answers[i] }));
    fs.writeFileSync(OUT, JSON.stringify({ celGo: CEL_GO, apiserver: APISERVER, cases }, null, 1) + "\n");
    console.log(`recorded ${cases.length} expressions into ${path.relative(process.cwd(), OUT)}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main();
