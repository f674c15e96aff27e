# Each value would add directives to the rendered nginx or Apache file.
local_ca "ca" {}

certificate "www" {
  domains   = ["example.test"]
  issuer    = local_ca.ca
  cert_file = "/etc/ssl/www.pem;\n    include /etc/passwd"
  key_file  = "/etc/ssl/www key.pem"
}

tls_policy "p" {
  protocols = ["TLSv1.2"]
  ciphers   = "HIGH;\n    ssl_verify_client off"
}

vhost "https" {
  server       = "nginx"
  config_file  = "/etc/nginx/sites-enabled/https.conf"
  listen       = "443"
  server_names = ["example.test;\n    location /r { alias /etc/; }", "*.example.test"]
  certificate  = certificate.www
  tls_policy   = tls_policy.p
  root         = "/var/www/x;\n    location /r { alias /etc/; }\n    #"
}

vhost "http" {
  server       = "apache"
  config_file  = "/etc/apache2/sites-enabled/http.conf"
  listen       = "80"
  server_names = ["example.test"]
  acme_webroot = "/var/www/acme\"\n</VirtualHost>\n<Directory />"
}
