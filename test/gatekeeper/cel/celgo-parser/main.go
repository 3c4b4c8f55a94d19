// The cel-go parser as an oracle for Portcullis's CEL parser (test/gatekeeper/cel/record-parser.ts):
// reads JSON strings (one expression a line) and prints, for each, cel-go's parse error text or a
// dump of its tree (ids, offsets, constants as text). With the argument "escape", backtick-quoted
// field names are enabled (cel-spec's conformance tests use them; Kubernetes does not).
// The environment is Kubernetes' for parsing: the optional syntax and the two-variable
// comprehension macros.
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"google.golang.org/protobuf/types/known/structpb"
	"os"
	"strconv"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/ext"
)

func dump(e ast.Expr, info *ast.SourceInfo) any {
	off, _ := info.GetOffsetRange(e.ID())
	m := map[string]any{"id": e.ID(), "off": off.Start}
	switch e.Kind() {
	case ast.LiteralKind:
		v := e.AsLiteral()
		switch x := v.Value().(type) {
		case float64:
			m["const"] = "double:" + strconv.FormatFloat(x, 'g', -1, 64)
		case []byte:
			m["const"] = "bytes:" + hex.EncodeToString(x)
		case string:
			m["const"] = "string:" + x
		case structpb.NullValue:
			m["const"] = "null"
		default:
			m["const"] = fmt.Sprintf("%T:%v", x, x)
		}
	case ast.IdentKind:
		m["ident"] = e.AsIdent()
	case ast.SelectKind:
		s := e.AsSelect()
		m["select"] = s.FieldName()
		m["test"] = s.IsTestOnly()
		m["operand"] = dump(s.Operand(), info)
	case ast.CallKind:
		c := e.AsCall()
		m["call"] = c.FunctionName()
		if c.IsMemberFunction() {
			m["target"] = dump(c.Target(), info)
		}
		args := []any{}
		for _, a := range c.Args() {
			args = append(args, dump(a, info))
		}
		m["args"] = args
	case ast.ListKind:
		l := e.AsList()
		el := []any{}
		for _, a := range l.Elements() {
			el = append(el, dump(a, info))
		}
		m["list"] = el
		m["opt"] = l.OptionalIndices()
	case ast.MapKind:
		en := []any{}
		for _, x := range e.AsMap().Entries() {
			me := x.AsMapEntry()
			o, _ := info.GetOffsetRange(x.ID())
			en = append(en, map[string]any{"id": x.ID(), "off": o.Start, "key": dump(me.Key(), info), "value": dump(me.Value(), info), "opt": me.IsOptional()})
		}
		m["map"] = en
	case ast.StructKind:
		s := e.AsStruct()
		en := []any{}
		for _, x := range s.Fields() {
			f := x.AsStructField()
			o, _ := info.GetOffsetRange(x.ID())
			en = append(en, map[string]any{"id": x.ID(), "off": o.Start, "field": f.Name(), "value": dump(f.Value(), info), "opt": f.IsOptional()})
		}
		m["struct"] = s.TypeName()
		m["fields"] = en
	case ast.ComprehensionKind:
		c := e.AsComprehension()
		m["iterVar"] = c.IterVar()
		m["iterVar2"] = c.IterVar2()
		m["accuVar"] = c.AccuVar()
		m["range"] = dump(c.IterRange(), info)
		m["init"] = dump(c.AccuInit(), info)
		m["cond"] = dump(c.LoopCondition(), info)
		m["step"] = dump(c.LoopStep(), info)
		m["result"] = dump(c.Result(), info)
	}
	return m
}

func main() {
	escape := len(os.Args) > 1 && os.Args[1] == "escape"
	opts := []cel.EnvOption{cel.OptionalTypes(), ext.TwoVarComprehensions()}
	if escape {
		opts = append(opts, cel.EnableIdentifierEscapeSyntax())
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		panic(err)
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	enc := json.NewEncoder(os.Stdout)
	for sc.Scan() {
		var src string
		if err := json.Unmarshal(sc.Bytes(), &src); err != nil {
			panic(err)
		}
		a, iss := env.Parse(src)
		if iss != nil && iss.Err() != nil {
			enc.Encode(map[string]any{"error": iss.Err().Error()})
			continue
		}
		native := a.NativeRep()
		enc.Encode(map[string]any{"ast": dump(native.Expr(), native.SourceInfo())})
	}
}
