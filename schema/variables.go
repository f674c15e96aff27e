package schema

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Variable is a variable block: a value the configuration takes from
// outside (-var, -var-file, *.auto.vars, TRUSTFORM_VAR_NAME), as in
// Terraform.
type Variable struct {
	Name        string         `hcl:"name,label"`
	TypeExpr    hcl.Expression `hcl:"type,optional"`
	DefaultExpr hcl.Expression `hcl:"default,optional"`
	Description string         `hcl:"description,optional"`
	Sensitive   bool           `hcl:"sensitive,optional"`
	Validations []*Validation  `hcl:"validation,block"`

	DeclRange hcl.Range `hcl:",def_range"`

	Type  cty.Type
	Value cty.Value
}

// Validation is a condition a variable's value must meet.
type Validation struct {
	Condition    hcl.Expression `hcl:"condition"`
	ErrorMessage string         `hcl:"error_message"`
}

// Locals is a locals block: named expressions of the configuration.
type Locals struct {
	Body hcl.Body `hcl:",remain"`
}

// Inputs are the variable values given from outside the configuration
// files, lowest precedence first as Terraform orders them: TRUSTFORM_VAR_
// environment variables, then *.auto.vars files of the directory in
// lexical order (Load reads those), then -var and -var-file in command-line
// order.
type Inputs struct {
	Env  []string // os.Environ()
	Args []VarArg
	// Unset: a required variable without a value is unknown instead of an
	// error, as Terraform's validate checks a configuration for any value.
	Unset bool
}

// VarArg is one -var NAME=VALUE or -var-file FILE.
type VarArg struct {
	File  string // -var-file
	Name  string // -var
	Value string
	// Saved: Value is a value as a saved plan records it (VariableRecord's
	// typed JSON), not a raw string.
	Saved bool
}

// NoValueSummary is the summary of the error for a required variable
// without a value (the command line asks for it on a terminal).
const NoValueSummary = "No value for required variable"

// EnvPrefix names environment variables that set variables.
const EnvPrefix = "TRUSTFORM_VAR_"

// AutoVarsSuffix names the variable files Load reads without being asked.
const AutoVarsSuffix = ".auto.vars"

// given is one value for a variable, raw (from -var or the environment)
// or an expression (from a file).
type given struct {
	raw   *string
	expr  hcl.Expression
	where string // for diagnostics without a range
}

// variableValues gathers what the inputs say, per variable name; the last
// one wins. Files are parsed with the configuration's parser, so their
// diagnostics print with their source.
func (c *Config) variableValues(in Inputs, auto map[string][]byte, read func(name string) ([]byte, error)) (map[string]given, hcl.Diagnostics) {
	values := map[string]given{}
	var diags hcl.Diagnostics
	for _, kv := range in.Env {
		k, v, ok := strings.Cut(kv, "=")
		if name, found := strings.CutPrefix(k, EnvPrefix); ok && found && name != "" {
			values[name] = given{raw: &v, where: "the environment variable " + k}
		}
	}
	file := func(name string, src []byte) {
		c.varFiles[name] = true
		if d := checkLimits(name, src, false); d != nil { // as configuration files are
			diags = append(diags, d)
			return
		}
		f, d := c.parser.ParseHCL(src, name)
		diags = append(diags, d...)
		if f == nil {
			return
		}
		attrs, d := f.Body.JustAttributes()
		diags = append(diags, d...)
		for n, a := range attrs {
			values[n] = given{expr: a.Expr}
		}
	}
	names := make([]string, 0, len(auto))
	for n := range auto {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		file(n, auto[n])
	}
	for _, a := range in.Args {
		if a.Saved {
			val, err := ctyjson.Unmarshal([]byte(a.Value), cty.DynamicPseudoType)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value in the saved plan", Detail: fmt.Sprintf("var.%s: %v", a.Name, err)})
				continue
			}
			values[a.Name] = given{expr: hcl.StaticExpr(val, hcl.Range{Filename: "the saved plan's var." + a.Name})}
			continue
		}
		if a.File == "" {
			v := a.Value
			values[a.Name] = given{raw: &v, where: "-var " + a.Name}
			continue
		}
		src, err := read(a.File)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read variables file", Detail: err.Error()})
			continue
		}
		file(a.File, src)
	}
	return values, diags
}

// decodeVariables reads the variable blocks and gives each its value:
// from outside, else its default; converted to its type and validated.
func (c *Config) decodeVariables(blocks hcl.Blocks, values map[string]given) hcl.Diagnostics {
	var diags hcl.Diagnostics
	declared := map[string]*Variable{}
	for _, b := range blocks {
		v := &Variable{Name: b.Labels[0], DeclRange: b.DefRange}
		if d := gohcl.DecodeBody(b.Body, nil, v); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		if prev := declared[v.Name]; prev != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate variable",
				Detail: fmt.Sprintf("var.%s was already declared at %s.", v.Name, prev.DeclRange), Subject: v.DeclRange.Ptr(), Context: prev.DeclRange.Ptr()})
			continue
		}
		declared[v.Name] = v
		diags = append(diags, c.decodeVariable(v, values)...)
		c.Variables = append(c.Variables, v)
	}
	var undeclared []string
	for n, g := range values {
		if declared[n] == nil && g.raw != nil && strings.HasPrefix(g.where, "-var") {
			undeclared = append(undeclared, n)
		}
	}
	slices.Sort(undeclared)
	for _, n := range undeclared {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value for undeclared variable",
			Detail: fmt.Sprintf("-var sets %q, but no variable %q is declared. Declare it with a variable block, or drop the -var.", n, n)})
	}
	for n, g := range values {
		if declared[n] == nil && g.expr != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Value for undeclared variable",
				Detail: fmt.Sprintf("No variable %q is declared, so this value is not used.", n), Subject: g.expr.Range().Ptr()})
		}
	}
	return diags
}

func (c *Config) decodeVariable(v *Variable, values map[string]given) hcl.Diagnostics {
	v.Type = cty.DynamicPseudoType
	if v.TypeExpr != nil && !isNullExpr(v.TypeExpr) {
		t, d := typeexpr.TypeConstraint(v.TypeExpr)
		if d.HasErrors() {
			return d
		}
		v.Type = t
	}
	if !hclsyntax.ValidIdentifier(v.Name) || reservedVariable(v.Name) {
		return hcl.Diagnostics{errAt(v.DeclRange, "Invalid variable name", fmt.Sprintf("%q cannot be a variable name: a name is a letter followed by letters, digits, underscores and dashes, and not one of the names HCL or trustform reserve.", v.Name))}
	}
	g, ok := values[v.Name]
	var val cty.Value
	var rng *hcl.Range
	switch {
	case ok && g.raw != nil:
		var d hcl.Diagnostics
		if val, d = rawValue(*g.raw, v.Type, g.where); d.HasErrors() {
			return d
		}
	case ok:
		var d hcl.Diagnostics
		if val, d = g.expr.Value(nil); d.HasErrors() {
			return d
		}
		rng = g.expr.Range().Ptr()
	case v.DefaultExpr != nil && !isNullExpr(v.DefaultExpr):
		var d hcl.Diagnostics
		if val, d = v.DefaultExpr.Value(nil); d.HasErrors() {
			return d
		}
		rng = v.DefaultExpr.Range().Ptr()
	case c.inputs.Unset:
		v.Value, c.unset = cty.UnknownVal(v.Type), true
		return nil
	default:
		return hcl.Diagnostics{errAt(v.DeclRange, NoValueSummary,
			fmt.Sprintf("var.%s has no default, and no value was given. Set it with -var %s=VALUE, a -var-file, a *.auto.vars file or %s%s.", v.Name, v.Name, EnvPrefix, v.Name))}
	}
	conv, err := convert.Convert(val, v.Type)
	if err != nil {
		d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail: fmt.Sprintf("var.%s wants %s: %s.", v.Name, v.Type.FriendlyName(), err), Subject: rng}
		if rng == nil {
			d.Subject, d.Detail = v.DeclRange.Ptr(), fmt.Sprintf("The value from %s for var.%s is not %s: %s.", g.where, v.Name, v.Type.FriendlyName(), err)
		}
		return hcl.Diagnostics{d}
	}
	v.Value = conv
	var diags hcl.Diagnostics
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{v.Name: conv})}, Functions: c.functions()}
	for _, val := range v.Validations {
		ok, d := val.Condition.Value(ctx)
		if d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		if ok, err := convert.Convert(ok, cty.Bool); err != nil || ok.IsNull() || !ok.IsKnown() {
			diags = append(diags, errAt(val.Condition.Range(), "Invalid validation condition", "The condition must be true or false."))
			continue
		} else if ok.True() {
			continue
		}
		fail := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail: val.ErrorMessage + "\n\nThis was checked by the validation rule at " + val.Condition.Range().String() + ".", Subject: rng, Context: val.Condition.Range().Ptr()}
		if rng == nil {
			fail.Subject, fail.Detail = v.DeclRange.Ptr(), val.ErrorMessage+"\n\n(var."+v.Name+" from "+g.where+".)"
		}
		diags = append(diags, fail)
	}
	if v.Sensitive {
		v.Value = conv.Mark(Sensitive)
		c.marked = true
	}
	return diags
}

// rawValue reads a value given as text, as Terraform does: a string for
// a variable of a primitive type, an HCL expression otherwise.
func rawValue(raw string, t cty.Type, where string) (cty.Value, hcl.Diagnostics) {
	if t.IsPrimitiveType() {
		return cty.StringVal(raw), nil
	}
	if d := checkLimits(where, []byte(raw), false); d != nil {
		return cty.NilVal, hcl.Diagnostics{d}
	}
	expr, d := hclsyntax.ParseExpression([]byte(raw), where, hcl.InitialPos)
	if d.HasErrors() {
		return cty.NilVal, d
	}
	v, d := expr.Value(nil)
	if d.HasErrors() && t == cty.DynamicPseudoType {
		return cty.StringVal(raw), nil // type any: a plain word is a string
	}
	return v, d
}

func reservedVariable(name string) bool {
	switch name {
	case "count", "each", "for_each", "depends_on", "lifecycle", "providers", "source", "version", "locals":
		return true
	}
	return false
}

func isNullExpr(e hcl.Expression) bool {
	if e == nil {
		return true
	}
	if len(e.Variables()) > 0 {
		return false
	}
	v, d := e.Value(nil)
	return !d.HasErrors() && v.IsNull()
}

// autoVars reads the *.auto.vars files of dir.
func autoVars(dir string) (map[string][]byte, error) {
	m, err := filepath.Glob(filepath.Join(dir, "*"+AutoVarsSuffix))
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, p := range m {
		path, err := configFile(dir, p)
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		out[filepath.Base(p)] = b
	}
	return out, nil
}

// VariablesDigest is a SHA-256 over the values of the variables that are
// not sensitive: a saved plan made with other values is stale. Sensitive
// values are compared through VariableRecord's keyed hashes: a plain
// digest of them, in every saved plan, could be guessed offline.
func (c *Config) VariablesDigest() string {
	sum := sha256.New()
	for _, v := range c.Variables {
		if v.Value == cty.NilVal || !v.Value.IsWhollyKnown() || v.Sensitive {
			continue // its diagnostic stops the run; a secret is not hashed here
		}
		val, _ := v.Value.UnmarkDeep()
		b, _ := ctyjson.Marshal(val, cty.DynamicPseudoType)
		fmt.Fprintf(sum, "%s\x00%s\x00", v.Name, b)
	}
	return hex.EncodeToString(sum.Sum(nil))
}

// VariableRecord is what a saved plan records of each variable's value:
// the value as JSON, or for a sensitive one its HMAC-SHA256 under key (the
// state's VariableKey, hex); without a key yet (no apply has saved state),
// only "(sensitive)".
func (c *Config) VariableRecord(key string) map[string]string {
	out := map[string]string{}
	for _, v := range c.Variables {
		if v.Value == cty.NilVal || !v.Value.IsWhollyKnown() {
			continue
		}
		val, _ := v.Value.UnmarkDeep()
		b, _ := ctyjson.Marshal(val, cty.DynamicPseudoType)
		if v.Sensitive {
			out[v.Name] = "(sensitive)"
			if k, err := hex.DecodeString(key); err == nil && len(k) > 0 {
				m := hmac.New(sha256.New, k)
				m.Write(b)
				out[v.Name] += " hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
			}
			continue
		}
		out[v.Name] = string(b)
	}
	return out
}

// unknownValue is a diagnostic that says only that a value is not known:
// with Inputs.Unset, a variable without a value is unknown, and what it
// flows into cannot be checked until it has one.
func unknownValue(d *hcl.Diagnostic) bool {
	return strings.Contains(d.Detail, "value must be known") || strings.Contains(d.Detail, "value is not known when the configuration is read")
}
