// Portcullis bench peer: OPA through its Go API (rego.New(...).PrepareForEval, then Eval in a loop).
//
// Protocol (the same for the regorus and Portcullis runners): one JSON request per line on stdin,
// one JSON answer per line on stdout.
//
//	{"id": "...", "workload": {"modules": [{"file","source"}], "regoVersion": "v0"|"v1",
//	 "data": {...}, "input": {...}, "query": "..."}, "iterations": N}
//
// The workload is sent the first time an id is seen; later requests carry only id and iterations.
// The runner evaluates the prepared query N times and answers {"id", "ns": CPU ns per evaluation
// (getrusage of this process, user+system, so the garbage collector's threads count), "result"}
// where result is the last evaluation's results, each the bindings object when the query binds
// variables, else the list of expression values. Errors answer {"id", "error"}.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"syscall"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

type module struct {
	File   string `json:"file"`
	Source string `json:"source"`
}

type workload struct {
	Modules     []module       `json:"modules"`
	RegoVersion string         `json:"regoVersion"`
	Data        map[string]any `json:"data"`
	Input       any            `json:"input"`
	Query       string         `json:"query"`
}

type request struct {
	ID         string    `json:"id"`
	Workload   *workload `json:"workload"`
	Iterations int       `json:"iterations"`
}

type prepared struct {
	pq    rego.PreparedEvalQuery
	input ast.Value
	err   error
}

func cpuNs() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func prepare(ctx context.Context, w *workload) prepared {
	opts := []func(*rego.Rego){rego.Query(w.Query)}
	if w.RegoVersion == "v0" {
		opts = append(opts, rego.SetRegoVersion(ast.RegoV0))
	}
	for _, m := range w.Modules {
		opts = append(opts, rego.Module(m.File, m.Source))
	}
	data := w.Data
	if data == nil {
		data = map[string]any{}
	}
	opts = append(opts, rego.Store(inmem.NewFromObject(data)))
	pq, err := rego.New(opts...).PrepareForEval(ctx)
	if err != nil {
		return prepared{err: err}
	}
	var input ast.Value
	if w.Input != nil {
		input, err = ast.InterfaceToValue(w.Input)
		if err != nil {
			return prepared{err: err}
		}
	}
	return prepared{pq: pq, input: input}
}

func run(ctx context.Context, p prepared, n int) (float64, []any, error) {
	var rs rego.ResultSet
	var err error
	evalOpts := []rego.EvalOption{}
	if p.input != nil {
		evalOpts = append(evalOpts, rego.EvalParsedInput(p.input))
	}
	t0 := cpuNs()
	for i := 0; i < n; i++ {
		rs, err = p.pq.Eval(ctx, evalOpts...)
		if err != nil {
			return 0, nil, err
		}
	}
	t1 := cpuNs()
	out := make([]any, 0, len(rs))
	for _, r := range rs {
		if len(r.Bindings) > 0 {
			out = append(out, r.Bindings)
			continue
		}
		vals := make([]any, 0, len(r.Expressions))
		for _, e := range r.Expressions {
			vals = append(vals, e.Value)
		}
		out = append(out, vals)
	}
	return float64(t1-t0) / float64(n), out, nil
}

func main() {
	ctx := context.Background()
	cache := map[string]prepared{}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	for {
		line, rerr := in.ReadBytes('\n')
		if len(line) > 1 {
			var req request
			var answer map[string]any
			if err := json.Unmarshal(line, &req); err != nil {
				answer = map[string]any{"error": fmt.Sprintf("bad request: %v", err)}
			} else {
				if req.Workload != nil {
					cache[req.ID] = prepare(ctx, req.Workload)
				}
				n := req.Iterations
				if n < 1 {
					n = 1
				}
				p, ok := cache[req.ID]
				switch {
				case !ok:
					answer = map[string]any{"id": req.ID, "error": "unknown workload id"}
				case p.err != nil:
					answer = map[string]any{"id": req.ID, "error": p.err.Error()}
				default:
					ns, result, err := run(ctx, p, n)
					if err != nil {
						answer = map[string]any{"id": req.ID, "error": err.Error()}
					} else {
						answer = map[string]any{"id": req.ID, "ns": ns, "result": result}
					}
				}
			}
			if err := enc.Encode(answer); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			out.Flush()
		}
		if rerr != nil {
			// End of input (or a broken pipe): the bench is done with this runner.
			return
		}
	}
}
