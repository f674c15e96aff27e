package providers

// Action is what a change does to a resource, as plans name it.
type Action string

// Actions.
const (
	Create  Action = "create"
	Update  Action = "update"
	Delete  Action = "delete"
	Replace Action = "replace"
	NoOp    Action = "no-op"
)

// Glyph is the one-character mark of an action in human output.
func (a Action) Glyph() string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Delete:
		return "-"
	case Replace:
		return "±"
	}
	return " "
}
