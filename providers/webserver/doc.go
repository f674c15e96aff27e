// Package webserver is the vhost resource: one managed web server config
// file (rendered for nginx or Apache, tested with the server's own config
// test, the previous file restored byte for byte when the test fails, then
// reloaded) together with what the running server really serves, probed as
// a client sees it. Renderers read their own files back (Summarize), so a
// hand edit shows as drift.
package webserver
