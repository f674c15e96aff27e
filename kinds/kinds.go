package kinds

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/trustform/trustform/providers"
	"github.com/trustform/trustform/providers/acme"
	"github.com/trustform/trustform/providers/apt"
	"github.com/trustform/trustform/providers/caa"
	"github.com/trustform/trustform/providers/certificate"
	"github.com/trustform/trustform/providers/dns"
	"github.com/trustform/trustform/providers/localca"
	"github.com/trustform/trustform/providers/mtasts"
	"github.com/trustform/trustform/providers/notify"
	"github.com/trustform/trustform/providers/service"
	"github.com/trustform/trustform/providers/webserver"
	"github.com/trustform/trustform/schema"
)

// All are the kinds of resource trustform knows, in the order of the
// language reference: a kind comes after the kinds it refers to. Adding a
// kind is one line here.
func All() []providers.Kind {
	return []providers.Kind{
		dns.ZoneKind(),
		acme.Kind(),
		localca.Kind(),
		certificate.Kind(),
		caa.Kind(),
		dns.TLSAKind(),
		webserver.PolicyKind(),
		webserver.VhostKind(),
		service.Kind(),
		mtasts.Kind(),
		apt.KeyKind(),
		apt.SourceKind(),
		notify.Kind(),
	}
}

// Importers are the sources trustform import reads, each its kind's.
func Importers() []providers.Importer {
	return []providers.Importer{
		certificate.CertbotImporter(),
		webserver.Importer("nginx"),
		webserver.Importer("apache"),
		service.PostfixImporter(),
		service.DovecotImporter(),
		dns.ZoneImporter(),
		apt.Importer(),
	}
}

// Schema is what the language knows of kinds.
func Schema(kinds []providers.Kind) []schema.Kind {
	out := make([]schema.Kind, len(kinds))
	for i, k := range kinds {
		out[i] = k.Kind
	}
	return out
}

// Load reads the configuration directory dir with every kind of All.
func Load(dir string, in schema.Inputs) (*schema.Config, hcl.Diagnostics) {
	return schema.Load(dir, in, Schema(All()))
}

// Parse decodes configuration sources with every kind of All (see
// schema.Parse).
func Parse(dir string, srcs map[string][]byte) (*schema.Config, hcl.Diagnostics) {
	return schema.Parse(dir, srcs, Schema(All()))
}
