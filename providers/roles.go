package providers

import (
	"context"
	"crypto"
	"crypto/x509"
	"time"

	"github.com/trustform/trustform/schema"
)

// The optional roles a resource may play, beside the Resource contract.
// The engine and the rules ask for them with interface assertions; each
// names what one kind of resource offers that others do not.

// Batched resources apply consecutive independent steps together: the TLSA
// RRsets of one zone in one RFC 2136 UPDATE.
type Batched interface {
	Resource
	// BatchKey groups what may share a batch ("" for nothing).
	BatchKey() string
	// ApplyBatch carries out one step of each item at once, all or nothing.
	// It returns the resources whose observation is stale now, the items'
	// and others' (RRsets sharing an owner name), error or not.
	ApplyBatch(ctx context.Context, items []BatchItem) ([]Resource, error)
}

// BatchItem is one step of a batch.
type BatchItem struct {
	Resource Resource
	Change   *Change // its last Plan's
	Phase    string
}

// Parallel resources have slow phases (an ACME order) whose independent
// steps may run side by side.
type Parallel interface {
	Resource
	Parallel(phase string) bool
}

// Propagating resources are served by several servers (a TLSA RRset on
// every authoritative server); tlsa-before-cert counts from when every
// server serves a record. Observe fills what these return.
type Propagating interface {
	Resource
	Visible() []string // records every server serves
	Lagging() []string // servers that do not serve what the primary does
	Everywhere() bool  // every server serves what the primary does
}

// Deleter resources delete what they managed once their block is removed
// from the configuration (its TLSA records, a vhost file, an APT source or
// keyring, a certificate's files); the others (a service, an issuer) are
// only forgotten. The engine rebinds a removed block from the source that
// state recorded, observes it, and asks Delete, with observed not nil.
type Deleter interface {
	Resource
	// Delete is the change that deletes it: Action Delete and its phases,
	// which Apply carries out.
	Delete(observed Value) *Change
}

// Phases that more than one kind speaks of: those the rules place.
const (
	PhaseDelete = "delete" // the usual phase of a deletion
	PhaseRevoke = "revoke" // a certificate -replace replaced is revoked (PlanOptions.Revoke)

	// A key rollover (tlsa-before-cert): the KeyDeployer stages its next
	// key (and chain, where a record pins a certificate), the Pins publish
	// its record, the KeyDeployer deploys it, the Pins prune the old.
	PhaseStageKey   = "stage-key"   // generate the next key beside the live one
	PhaseStageCert  = "stage-cert"  // issue for the target key into the staged chain file
	PhasePublish    = "publish"     // add the record for the next key beside the current ones
	PhaseDeployNext = "deploy-next" // deploy the staged chain, or issue for the staged key, and deploy it
	PhasePrune      = "prune"       // drop the records of keys no longer served

	// A resource's file (a vhost's configuration, an APT keyring or
	// source) is written; apt-key-before-source orders keys and sources by
	// it, and hsts-on-http-vhost switches HSTS on with it.
	PhaseWrite = "write"
	// PhasePublishID announces an MTA-STS policy's id once the policy is
	// served (rule mta-sts-policy-before-id places it).
	PhasePublishID = "publish-id"
	// An APT key leaves the legacy global keyrings, once the sources that
	// trust it by Signed-By are in place (apt-key-before-source).
	PhaseRemoveLegacy = "remove-legacy"
	// An HTTP vhost serves the ACME challenge and the redirect first, its
	// HSTS header not yet (acme-challenge-not-redirected).
	PhaseChallenge = "challenge"
)

// KeyTruster resources trust a key that another resource installs (an APT
// source, by Signed-By): that key is written before they are, and leaves
// the global keyrings only after them.
type KeyTruster interface {
	Resource
	TrustsKey() schema.Address
}

// Explainer resources say more about their change once the whole plan is
// ordered: a re-keyed certificate, until when its old key stays trusted
// (which later steps prune the records that pin it, which revokes it).
type Explainer interface {
	Resource
	// Explain returns reasons to add to the change of the resource at self,
	// given the plan's steps in order and the options Plan had.
	Explain(self schema.Address, steps []OrderedStep, opts PlanOptions) []string
}

// OrderedStep is a step of the ordered plan.
type OrderedStep struct {
	Index   int
	Address schema.Address
	Phase   string
	Refers  []schema.Address // what the step's resource refers to
}

// Renewing resources need attention even when nothing changed since the
// last apply: they run out (a certificate nearing expiry, an APT key about
// to expire) or something beside them breaks them (another file's entry
// for an APT source's repository). Due says why, for drift reports.
// Observe must have run.
type Renewing interface {
	Resource
	Due() []string
}

// ChainGuarded resources publish into a DNS zone, or order certificates
// for its names, whose DNSSEC chain of trust must validate first (rule
// dnssec-chain-valid). ChainBroken says why the chain from the trust
// anchor to the zone's keys does not validate, as Observe found it, or
// nil when it does or nothing depends on it. Plan must have run.
type ChainGuarded interface {
	Resource
	ChainBroken() error
}

// CAAGuarded resources order certificates from an ACME CA, which refuses
// an order that the CAA records of its names forbid (rule
// caa-before-order). CAAForbids says why the last Plan's order would be
// refused, or nil. Plan must have run.
type CAAGuarded interface {
	Resource
	CAAForbids() error
}

// Targeted is a resource whose record a time gate waits for: Target is
// the record, or "" with why while it is not known yet (resolved again
// when the gate is reached).
type Targeted interface {
	Target() (record, why string)
}

// CAAPublisher is a CAA RRset trustform publishes. The orders of the
// certificates it governs wait until its record (Target) is visible on
// every authoritative server (rule caa-before-order).
type CAAPublisher interface {
	Resource
	Targeted
	Governs(cert schema.Address) bool
	// Permits reports whether the records permit an ACME account's orders.
	Permits(account schema.Address) bool
}

// MXPolicy is an MTA-STS policy in enforce mode: MXProblems are why
// senders that enforce it would refuse an MX (rule mta-sts-mx-covered).
// Observe must have run.
type MXPolicy interface {
	Resource
	MXProblems() []string
}

// SlowDeleter is a resource whose deletion waits: what it published last
// must stay served for RetireAfter from when its Target record is visible
// everywhere (an MTA-STS policy in mode none, for max_age), before it goes.
type SlowDeleter interface {
	Resource
	Targeted
	RetireAfter() time.Duration
}

// Warner resources have something to say about what was observed that is
// not a change (a server lagging, signatures missing). Plan must have run.
type Warner interface {
	Resource
	Warnings() []Warning
}

// Warning is a warning about one resource; the engine points it at its
// block, or at the block's attribute Attr when that is set.
type Warning struct {
	Summary, Detail string
	// Error: the configuration asks for what the server refuses (a profile
	// the CA does not offer, its terms not agreed to), so the plan stops.
	Error bool
	Attr  string
}

// KeyDeployer is a certificate as the resources that follow it see it:
// TLSA RRsets pin its key, vhosts serve it, tlsa-before-cert orders its
// rollover. Plan must have run.
type KeyDeployer interface {
	Resource
	KeyPlan() KeyPlan
}

// KeyPlan is what a certificate's change does to the key it serves.
type KeyPlan struct {
	Issue       bool // a certificate is issued and deployed
	NewKey      bool // ... for a key that is not served now
	Staged      bool // that key waits staged already (KEY_FILE.next)
	StagedChain bool // a chain for it waits staged already (CERT_FILE.next)
	// StageNext: a fresh next key is staged after the change (publish_next);
	// NextPhase is that step.
	StageNext bool
	NextPhase Phase

	// KeyFile and CertFile are key_file and cert_file as configured, for
	// the descriptions of the steps a rule places.
	KeyFile, CertFile string

	Live   []*x509.Certificate // the deployed chain, leaf first
	Chain  []*x509.Certificate // the staged chain, when it is issued for Target
	Target crypto.PublicKey    // the key served after the change; nil until generated
	Next   crypto.PublicKey    // publish_next: the next key kept staged after it
	// CAs are the issuing CAs a trust-anchor RRset keeps pinned whatever
	// is served: with fallback_issuers, the latest CA each issuer issued
	// under, so that a failover serves a CA its clients already accept.
	CAs []*x509.Certificate
}

// Pin is a TLSA RRset as tlsa-before-cert sees it. Plan must have run.
type Pin interface {
	Resource
	// TrustAnchor: usage 0 or 2, the RRset pins the issuing CA.
	TrustAnchor() bool
	// CertBound: the record is computed from an issued certificate (the
	// issuing CA's for usage 0 and 2, the whole leaf for selector 0), not
	// from a key alone, so every new certificate is issued into a staged
	// chain before its record can be published.
	CertBound() bool
	// Target is the record of the key (or CA) to be served; "" with why
	// while it is not known yet.
	Targeted
	// Published reports whether record is among the observed records.
	Published(record string) bool
	// Settled reports whether the observed RRset is already the steady one
	// (nothing left to prune).
	Settled() bool
	Wait() time.Duration
	// Pinned is the certificate whose key or chain the records pin.
	Pinned() schema.Address
	// KeepsNext: the next key's record stays published (publish_next).
	KeepsNext() bool
}

// Server resources serve a certificate to clients (a vhost, a mail
// service): records of an old key are removed only after every one of them
// was seen serving the new certificate.
type Server interface {
	Resource
	// Serves is the certificate it serves; the zero Address for none.
	Serves() schema.Address
}

// KeyHolder resources hold a private key and its certificate: Held says
// what, for the inventory (trustform show) an incident starts from. It
// reads; it changes nothing.
type KeyHolder interface {
	Resource
	Held(ctx context.Context) (*Held, error)
}

// Held is a deployed certificate and its key, as read from the host; nil
// fields where nothing is deployed yet.
type Held struct {
	Domains    []string   `json:"domains"`
	KeyType    string     `json:"key_type"`
	SPKISHA256 string     `json:"spki_sha256"` // what a 3 1 1 record carries
	LeafSHA256 string     `json:"-"`           // what a 3 0 1 record carries (for an import; not in show's JSON)
	Serial     string     `json:"serial"`      // hex, as openssl x509 -serial prints it
	Issuer     string     `json:"issuer"`      // the issuing CA's subject
	NotBefore  *time.Time `json:"not_before"`
	NotAfter   *time.Time `json:"not_after"`
	RenewFrom  *time.Time `json:"renew_from,omitempty"`  // the CA's renewal window (ARI), where it says
	KeyWritten *time.Time `json:"key_written,omitempty"` // when the key file was last written: the key's generation
	CertFile   string     `json:"cert_file"`
	KeyFile    string     `json:"key_file"`
	NextKey    string     `json:"next_spki_sha256,omitempty"` // a staged next key (publish_next)
}

// Finisher resources tidy up once a whole apply has run through, nothing
// held at a gate: what a step had to keep until every later step was done
// (a replaced key's .prev copy, kept so that a failed reload could put it
// back) goes then.
type Finisher interface {
	Resource
	Finish(ctx context.Context) error
}

// Retirer resources retire what -replace replaced: the old certificate's
// key leaves the host, and with -revoke the CA revokes the certificate.
// A retirement outlives the run that approved it (an apply that waits at
// a gate revokes when the rollover completes), so the engine keeps
// Retiring in state and hands it back through PlanOptions. Plan must
// have run.
type Retirer interface {
	Resource
	// Retiring is what is still to do: the entries handed in, those the
	// last Plan added, less those done.
	Retiring() []Retired
}

// Retired is a certificate replaced because its key must no longer be
// trusted, until its retirement is done.
type Retired struct {
	Serial      string `json:"serial"`      // hex, as openssl x509 -serial prints it
	SPKISHA256  string `json:"spki_sha256"` // its key: no copy of it may stay on the host
	NotAfter    string `json:"not_after"`
	Certificate string `json:"certificate"` // the leaf, PEM: what the CA is asked to revoke
	// Reason is -revoke's reason; "" when only the key is to go.
	Reason  string `json:"reason,omitempty"`
	Revoked bool   `json:"revoked,omitempty"` // the CA has revoked it
}

// Described resources say in a few words what they are, for the
// inventory's lists of what serves and pins each certificate ("nginx
// *:443, www.example.test").
type Described interface {
	Describe() string
}
