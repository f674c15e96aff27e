// Package apache renders a vhost as an Apache <VirtualHost> (mod_ssl,
// mod_headers, mod_rewrite, HTTP/2) and reads one back. The file is written,
// tested and reloaded by files.ServerConfig.
package apache
