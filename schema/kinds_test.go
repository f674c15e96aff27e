package schema

import (
	"reflect"
	"strings"
	"testing"
)

// The kinds table names exactly the block types a configuration file
// decodes, in the same order, but for the state and removed blocks: they
// are settings of the whole configuration, not blocks that others refer to.
func TestKindsMatchFileBlocks(t *testing.T) {
	ft := reflect.TypeOf(file{})
	var decoded []string
	for i := range ft.NumField() {
		if name := strings.Split(ft.Field(i).Tag.Get("hcl"), ",")[0]; name != "state" && name != "removed" {
			decoded = append(decoded, name)
		}
	}
	var table []string
	for _, k := range Kinds() {
		table = append(table, k.Type)
	}
	if !reflect.DeepEqual(decoded, table) {
		t.Errorf("file decodes %v, the kinds table lists %v", decoded, table)
	}
}
