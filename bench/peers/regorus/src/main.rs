// Portcullis bench peer: regorus through its Rust API.
//
// Protocol (the same for the OPA and Portcullis runners): one JSON request per line on stdin,
// one JSON answer per line on stdout.
//   {"id": "...", "workload": {"modules": [{"file","source"}], "regoVersion": "v0"|"v1",
//    "data": {...}, "input": {...}, "query": "..."}, "iterations": N}
// Queries that are a rule's path run through eval_rule (see Mode). The workload is sent the first time an id is seen; later requests carry only id and
// iterations. The runner evaluates the query N times on the prepared engine and answers
// {"id", "ns": CPU ns per evaluation (getrusage of this process, user+system), "result": [...]}
// where result is the last evaluation's results, each the bindings object when the query binds
// variables, else the list of expression values. Errors answer {"id", "error"}.
use regorus::{Engine, Value};
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::io::{BufRead, Write};

/// How a query runs: regorus has no prepared query, and `eval_query` parses its text on every
/// call; a query that is a rule's path (`data.a.b`), or a partial set rule's path with a variable
/// (`data.a.violation[r]`, Gatekeeper's query) runs through `eval_rule` on that path instead, as
/// regorus's own benches do, with the same answer.
enum Mode {
    Rule(String, Option<String>),
    Query,
}

struct Prepared {
    engine: Engine,
    input: Value,
    query: String,
    mode: Mode,
}

fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_') && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn mode_of(query: &str) -> Mode {
    let q = query.trim();
    let (path, var) = match q.strip_suffix(']').and_then(|x| x.rsplit_once('[')) {
        Some((p, v)) if is_ident(v) => (p, Some(v.to_string())),
        Some(_) => return Mode::Query,
        None => (q, None),
    };
    let mut parts = path.split('.');
    if parts.next() != Some("data") {
        return Mode::Query;
    }
    let rest: Vec<&str> = parts.collect();
    if rest.is_empty() || !rest.iter().all(|p| is_ident(p)) {
        return Mode::Query;
    }
    Mode::Rule(path.to_string(), var)
}

fn cpu_ns() -> u128 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let us = |t: libc::timeval| (t.tv_sec as u128) * 1_000_000 + (t.tv_usec as u128);
    (us(ru.ru_utime) + us(ru.ru_stime)) * 1000
}

fn prepare(w: &Json) -> Result<Prepared, String> {
    let mut engine = Engine::new();
    let v0 = w.get("regoVersion").and_then(|v| v.as_str()) == Some("v0");
    engine.set_rego_v0(v0);
    // As OPA's default (and Gatekeeper's driver): a builtin error makes the expression undefined.
    engine.set_strict_builtin_errors(false);
    let modules = w.get("modules").and_then(|m| m.as_array()).ok_or("workload has no modules")?;
    for m in modules {
        let file = m.get("file").and_then(|f| f.as_str()).ok_or("module without file")?;
        let source = m.get("source").and_then(|f| f.as_str()).ok_or("module without source")?;
        engine.add_policy(file.to_string(), source.to_string()).map_err(|e| e.to_string())?;
    }
    if let Some(d) = w.get("data") {
        if !d.is_null() {
            let dv = Value::from_json_str(&d.to_string()).map_err(|e| e.to_string())?;
            engine.add_data(dv).map_err(|e| e.to_string())?;
        }
    }
    let input = match w.get("input") {
        Some(i) if !i.is_null() => Value::from_json_str(&i.to_string()).map_err(|e| e.to_string())?,
        _ => Value::Undefined,
    };
    let query = w.get("query").and_then(|q| q.as_str()).ok_or("workload has no query")?.to_string();
    let mode = mode_of(&query);
    Ok(Prepared { engine, input, query, mode })
}

fn run(p: &mut Prepared, n: u64) -> Result<(f64, Json), String> {
    if let Mode::Rule(path, var) = &p.mode {
        let (path, var) = (path.clone(), var.clone());
        let mut last = Value::Undefined;
        let t0 = cpu_ns();
        for _ in 0..n {
            p.engine.set_input(p.input.clone());
            last = p.engine.eval_rule(path.clone()).map_err(|e| e.to_string())?;
        }
        let t1 = cpu_ns();
        let ns = (t1 - t0) as f64 / n as f64;
        if last == Value::Undefined {
            return Ok((ns, Json::Array(vec![])));
        }
        match var {
            None => return Ok((ns, json!([[serde_json::to_value(&last).map_err(|e| e.to_string())?]]))),
            Some(v) => {
                if let Ok(set) = last.as_set() {
                    let mut rows = Vec::new();
                    for e in set.iter() {
                        rows.push(json!({ v.as_str(): serde_json::to_value(e).map_err(|e| e.to_string())? }));
                    }
                    return Ok((ns, Json::Array(rows)));
                }
                // Not a set (an object or array binds keys or indexes): the query runs as a query.
                p.mode = Mode::Query;
            }
        }
    }
    let mut last = None;
    let t0 = cpu_ns();
    for _ in 0..n {
        p.engine.set_input(p.input.clone());
        last = Some(p.engine.eval_query(p.query.clone(), false).map_err(|e| e.to_string())?);
    }
    let t1 = cpu_ns();
    let rs = last.ok_or("zero iterations")?;
    let mut out = Vec::new();
    for r in rs.result.iter() {
        let b = serde_json::to_value(&r.bindings).map_err(|e| e.to_string())?;
        let has_bindings = b.as_object().map(|o| !o.is_empty()).unwrap_or(false);
        if has_bindings {
            out.push(b);
        } else {
            let mut vals = Vec::new();
            for e in r.expressions.iter() {
                vals.push(serde_json::to_value(&e.value).map_err(|e| e.to_string())?);
            }
            out.push(Json::Array(vals));
        }
    }
    Ok(((t1 - t0) as f64 / n as f64, Json::Array(out)))
}

fn main() {
    let mut prepared: HashMap<String, Result<Prepared, String>> = HashMap::new();
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let line = match line {
            Ok(l) => l,
            Err(_) => break,
        };
        if line.trim().is_empty() {
            continue;
        }
        let req: Json = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => {
                let _ = writeln!(stdout, "{}", json!({"error": format!("bad request: {e}")}));
                let _ = stdout.flush();
                continue;
            }
        };
        let id = req.get("id").and_then(|i| i.as_str()).unwrap_or("").to_string();
        if let Some(w) = req.get("workload") {
            prepared.insert(id.clone(), prepare(w));
        }
        let n = req.get("iterations").and_then(|n| n.as_u64()).unwrap_or(1).max(1);
        let answer = match prepared.get_mut(&id) {
            None => json!({"id": id, "error": "unknown workload id"}),
            Some(Err(e)) => json!({"id": id, "error": e}),
            Some(Ok(p)) => match run(p, n) {
                Ok((ns, result)) => json!({"id": id, "ns": ns, "result": result}),
                Err(e) => json!({"id": id, "error": e}),
            },
        };
        let _ = writeln!(stdout, "{answer}");
        let _ = stdout.flush();
    }
}
