// Package status is the status page (show -html): one self-contained HTML
// file, with no external script, font, style or image, of what a fleet
// holds: the certificates, a timeline of their expiries and renewal
// windows drawn as SVG, the DANE matrix (each TLSA RRset against each
// authoritative server, green or red with the reason), the pending gates
// and revocations, and the last runs. Page is the data; WriteHTML renders
// it with html/template, so that nothing a server answered becomes markup.
package status
