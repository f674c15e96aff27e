package schema

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// A configuration from a pull request is evaluated on the runner: an
// expression must not ask for gigabytes (setproduct of a few lists,
// range(1e9), a string doubled in a chain of locals). The functions that
// multiply their input are bounded before they run, from their arguments;
// every local and attribute value is bounded after it is computed, so a
// chain of doublings stops at the first value too large.
const (
	MaxElements    = 100_000 // elements of one collection
	MaxValueLength = 1 << 20 // bytes of text in one value
)

// boundedFunctions wraps the functions whose result can be much larger
// than their arguments.
func boundedFunctions(fns map[string]function.Function) {
	fns["range"] = bounded(fns["range"], func(args []cty.Value) error {
		start, end, step := 0.0, 0.0, 1.0
		f := func(v cty.Value) float64 { x, _ := v.AsBigFloat().Float64(); return x }
		switch len(args) {
		case 1:
			end = f(args[0])
		case 2:
			start, end = f(args[0]), f(args[1])
		case 3:
			start, end, step = f(args[0]), f(args[1]), f(args[2])
		}
		if step != 0 && (end-start)/step > MaxElements {
			return fmt.Errorf("range would make more than %d numbers", MaxElements)
		}
		return nil
	})
	fns["setproduct"] = bounded(stdlib.SetProductFunc, func(args []cty.Value) error {
		n := 1
		for _, a := range args {
			if a.IsKnown() && !a.IsNull() && a.CanIterateElements() {
				if n *= a.LengthInt(); n > MaxElements {
					return fmt.Errorf("setproduct would make more than %d combinations", MaxElements)
				}
			}
		}
		return nil
	})
	grows := func(name string) {
		fns[name] = bounded(fns[name], func(args []cty.Value) error {
			if n := textSize(cty.TupleVal(args)); n > MaxValueLength {
				return fmt.Errorf("%s of %d bytes of text: more than %d", name, n, MaxValueLength)
			}
			return nil
		})
	}
	for _, name := range []string{"join", "format", "formatlist", "replace", "indent", "concat", "flatten"} {
		grows(name)
	}
}

// bounded is f refusing, before it runs, arguments check finds too large.
func bounded(f function.Function, check func(args []cty.Value) error) function.Function {
	params, variadic := f.Params(), f.VarParam()
	return function.New(&function.Spec{
		Params:   params,
		VarParam: variadic,
		Type: func(args []cty.Value) (cty.Type, error) {
			return f.ReturnTypeForValues(args)
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if err := check(args); err != nil {
				return cty.NilVal, err
			}
			return f.Call(args)
		},
	})
}

// checkSize says why a computed value is too large, or "".
func checkSize(v cty.Value) string {
	if n := elements(v); n > MaxElements {
		return fmt.Sprintf("it has more than %d elements", MaxElements)
	}
	if n := textSize(v); n > MaxValueLength {
		return fmt.Sprintf("it holds %d bytes of text, more than %d", n, MaxValueLength)
	}
	return ""
}

// textSize is the bytes of text of v's strings, as they would be copied
// (a list holding one string a thousand times counts it a thousand times).
func textSize(v cty.Value) int {
	v, _ = v.UnmarkDeep()
	switch {
	case !v.IsKnown() || v.IsNull():
		return 0
	case v.Type() == cty.String:
		return len(v.AsString())
	case v.CanIterateElements():
		n := 0
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if n += textSize(e); n > MaxValueLength {
				return n
			}
		}
		return n
	}
	return 0
}

// elements counts v's elements, nested ones included.
func elements(v cty.Value) int {
	v, _ = v.UnmarkDeep()
	if !v.IsKnown() || v.IsNull() || !v.CanIterateElements() {
		return 0
	}
	n := v.LengthInt()
	for it := v.ElementIterator(); it.Next() && n <= MaxElements; {
		_, e := it.Element()
		n += elements(e)
	}
	return n
}
