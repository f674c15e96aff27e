vhost "a" {
  server       = "nginx"
  config_file  = "a.conf"
  listen       = "80"
  server_names = ["a.example.test"]
  hsts_from    = vhost.b
}

vhost "b" {
  server       = "nginx"
  config_file  = "b.conf"
  listen       = "80"
  server_names = ["b.example.test"]
  hsts_from    = vhost.a
}
