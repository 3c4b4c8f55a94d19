vcl 4.1;
import std;
backend web {
    .host = "10.0.0.1";
    .port = 8080;
    .connect_timeout = 5s;
    .probe = {
        .url = "/health";
        .interval = 5s;
    }
}
probe p1 {
    .url = "/";
}
acl local {
    "localhost";
    !"10.0.0.2";
}
sub vcl_deliver {
    set resp.http.X-Cache = "HIT";
}
