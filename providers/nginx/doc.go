// Package nginx renders a vhost as an nginx server block and reads one back.
// The file is written, tested and reloaded by files.ServerConfig.
package nginx
