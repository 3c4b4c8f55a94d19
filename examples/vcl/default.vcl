vcl 4.0;

backend default {
  .host = "127.0.0.1";
  .port = "8080";
}

backend legacy {
  .host = "10.0.0.12";
  .port = "80";
}

acl purge {
  "localhost";
  "0.0.0.0"/0;
}

sub vcl_recv {
  set req.http.X-Forwarded-Proto = "https";
}
